/**
 * The report flags that `resdet eval coco` and `resdet eval voc` share:
 *
 *     --plot DIR              precision-recall curves as PNGs into DIR (created when missing)
 *     --per-class csv|md      the per-class table, printed after the summary
 *     --per-class-out FILE    ... written to FILE instead (format from --per-class or the extension)
 *
 * stdout keeps its contract: with --json it holds only the JSON object, so a table for stdout
 * with --json is refused before anything runs. Every flag is checked before the evaluation starts
 * (a bad folder fails in milliseconds, not after minutes of matching). The plotting module (and
 * sharp with it) is loaded only when --plot is given.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { formatTable, TABLE_FORMATS, type Table, type TableFormat } from '../../src/eval/per-class-table.ts';
import type { PrPlots } from '../../src/eval/pr-curves.ts';

/** The shared report flags (commander camel-cases them). */
export interface EvalReportOptions {
  json?: boolean;
  plot?: string;
  perClass?: TableFormat;
  perClassOut?: string;
}

/** The file's stats, or undefined when it does not exist or cannot be reached (ENOTDIR, EACCES). */
function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** commander parser for --per-class. */
function perClassFormat(text: string): TableFormat {
  if (!(TABLE_FORMATS as readonly string[]).includes(text)) throw new InvalidArgumentError(`--per-class: expected ${TABLE_FORMATS.join(' or ')}, got ${JSON.stringify(text)}`);
  return text as TableFormat;
}

/** Adds --plot, --per-class and --per-class-out to an eval subcommand. */
export function addReportOptions(cmd: Command, plotWhat: string): Command {
  return cmd
    .option('--plot <dir>', `draw precision-recall curves as PNGs into <dir> (pr-overall.png and one per class; ${plotWhat})`)
    .option('--per-class <format>', 'print the per-class table after the summary, as csv or md', perClassFormat)
    .option('--per-class-out <file>', 'write the per-class table to <file> instead (format: --per-class, else the .csv/.md extension)');
}

/**
 * Checks the report flags and prepares their targets before the evaluation runs.
 * @returns the table format to write, if any
 * @throws UserError naming the flag: a table for stdout with --json, an unknown extension,
 *   a --plot path that is a file or cannot be created, a --per-class-out folder that does not exist
 */
export async function checkReportOptions(opts: EvalReportOptions): Promise<TableFormat | undefined> {
  let format = opts.perClass;
  if (opts.perClassOut !== undefined) {
    if (format === undefined) {
      const ext = path.extname(opts.perClassOut).slice(1).toLowerCase();
      if (ext !== 'csv' && ext !== 'md') throw new UserError(`--per-class-out: cannot tell the format of ${JSON.stringify(opts.perClassOut)}; name a .csv or .md file or give --per-class csv|md`);
      format = ext;
    }
    if (statOf(opts.perClassOut)?.isDirectory()) throw new UserError(`--per-class-out: expected a file, got the folder ${JSON.stringify(opts.perClassOut)}`);
    const parent = path.dirname(path.resolve(opts.perClassOut));
    if (!statOf(parent)?.isDirectory()) throw new UserError(`--per-class-out: the folder ${JSON.stringify(parent)} does not exist`);
  } else if (format !== undefined && opts.json) {
    throw new UserError('--per-class: with --json, stdout holds only the JSON object; write the table with --per-class-out FILE');
  }
  if (opts.plot !== undefined) {
    const { preparePlotDir } = await import('../../src/eval/pr-plot.ts');
    preparePlotDir(opts.plot, '--plot');
  }
  return format;
}

/**
 * Writes the requested reports after the evaluation.
 * @param format what {@link checkReportOptions} returned
 * @param table the per-class table (built only when asked for)
 * @param plots the precision-recall plots (built only with --plot)
 * @param classNames the full class list, for the plot file names
 * @returns text for stdout after the summary ('' when none)
 */
export async function writeReports(opts: EvalReportOptions, format: TableFormat | undefined, table: () => Table, plots: () => PrPlots, classNames: readonly string[]): Promise<string> {
  let out = '';
  if (format !== undefined) {
    const text = formatTable(table(), format);
    if (opts.perClassOut !== undefined) writeFileAtomic(opts.perClassOut, text);
    else out = `\n${text}`;
  }
  if (opts.plot !== undefined) {
    const { writePrPlots } = await import('../../src/eval/pr-plot.ts');
    const p = plots();
    const files = await writePrPlots(opts.plot, p, classNames);
    const skipped = p.skipped.length > 0 ? `; none for the classes without GT (${p.skipped.length}): ${p.skipped.slice(0, 5).join(', ')}${p.skipped.length > 5 ? ', ...' : ''}` : '';
    process.stderr.write(`resdet: wrote ${files.length} precision-recall plots to ${opts.plot}${skipped}\n`);
  }
  if (opts.perClassOut !== undefined && format !== undefined) process.stderr.write(`resdet: wrote the per-class table to ${opts.perClassOut}\n`);
  return out;
}
