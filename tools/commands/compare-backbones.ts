/**
 * `resdet compare-backbones`: trains and evaluates Faster R-CNN on several backbones with
 * identical settings (data, recipe, budget, seed) and prints a table in the layout of the
 * paper's Tables 7 and 8 (training data, test data, mAP@.5, mAP@[.5,.95]) with training time and
 * images/s per backbone.
 *
 * Backbones run one after the other; one that fails (a bad weights file, running out of memory)
 * does not cost the others: the rows that finished are printed, then one line per failure, and
 * the command exits 1.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../../src/backend/index.ts';
import { UserError, quote } from '../../src/errors.ts';
import { loadDetector } from '../../tasks/detection/model.ts';
import { evaluateModel } from '../../tasks/detection/pipeline.ts';
import { formatDuration } from '../../src/train/progress.ts';
import { RECIPES, RECIPE_NAMES, type RecipeName } from '../../tasks/detection/recipes.ts';
import { trainDetector } from '../../tasks/detection/train.ts';
import { asCliError, parseFormat, parseIntFlag, parseOptionalCount, parsePositive } from '../flags.ts';

/** One row of the comparison. */
export interface ComparisonRow {
  backbone: string;
  trainData: string;
  testData: string;
  /** VOC: VOC2007 11-point mAP@0.5 (Table 7); COCO: COCO AP50 (Table 8) */
  map50: number;
  /** COCO mAP@[.5,.95] */
  map: number;
  steps: number;
  trainSeconds: number;
  trainImagesPerSecond: number;
  testImagesPerSecond: number;
  checkpoint: string;
  /** the pretrained backbone weights the run started from; absent = random initialisation */
  weights?: string;
}

/** A backbone whose training or evaluation failed, and why (one line). */
export interface ComparisonFailure {
  backbone: string;
  reason: string;
}

/**
 * Parses `--weights resnet101=FILE,vgg16=FILE`: one pretrained weights file per backbone (each
 * named in `backbones`, at most once; backbones left out start from random weights). A file
 * name may contain '=' (split at the first) but not ','.
 * @returns backbone -> absolute path
 * @throws UserError naming the bad entry
 */
export function parseBackboneWeights(text: string, backbones: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const name = at < 0 ? '' : entry.slice(0, at).trim();
    const file = at < 0 ? '' : entry.slice(at + 1).trim();
    if (!name || !file) throw new UserError(`--weights: expected BACKBONE=FILE entries separated by commas (e.g. resnet101=r101.pth,vgg16=vgg16.pth), got ${quote(entry)}`);
    if (!backbones.includes(name)) throw new UserError(`--weights: ${quote(name)} is not one of --backbones (${backbones.join(', ')})`);
    if (out.has(name)) throw new UserError(`--weights: ${quote(name)} given twice`);
    const resolved = path.resolve(file);
    if (!fs.existsSync(resolved) || !fs.statSync(resolved).isFile()) throw new UserError(`--weights: ${name}=${file}: no such file`);
    out.set(name, resolved);
  }
  if (out.size === 0) throw new UserError('--weights: expected at least one BACKBONE=FILE entry');
  return out;
}

/**
 * One line saying why a backbone failed: the error's message with its newlines folded (a wasm
 * abort's message carries the whole glue source otherwise), cut to 300 characters; a wasm
 * memory fault says what it most likely is.
 */
export function failureReason(error: unknown): string {
  // the library names its options by field, this command by flag
  const err = asCliError(error);
  const message = err instanceof Error ? err.message : String(err);
  let line = message.replace(/\s*\n\s*/g, ' ').trim() || (err instanceof Error ? err.name : 'unknown error');
  if (line.length > 300) line = `${line.slice(0, 297)}...`;
  const wasmFault = err instanceof WebAssembly.RuntimeError || /memory access out of bounds|^Aborted\(/.test(message);
  return wasmFault ? `${line} (the wasm backend ran out of its 4 GB: use the native backend or a smaller --min-size)` : line;
}

/** The table, paper style: percentages with one decimal. */
export function formatComparison(rows: readonly ComparisonRow[], format: 'voc' | 'coco'): string[] {
  const header = ['model', 'training data', 'test data', format === 'voc' ? 'mAP@.5 (VOC07)' : 'mAP@.5', 'mAP@[.5,.95]', 'steps', 'train time', 'train img/s', 'test img/s'];
  const cells = rows.map((r) => [
    `Faster R-CNN ${r.backbone}`, r.trainData, r.testData, (100 * r.map50).toFixed(1), (100 * r.map).toFixed(1),
    String(r.steps), formatDuration(r.trainSeconds), r.trainImagesPerSecond.toFixed(2), r.testImagesPerSecond.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

interface Flags {
  backbones: string; data: string; format: string; preset?: string; out: string; iterations?: string; minutes?: string;
  weights?: string; fromScratch?: boolean; seed: string; minSize?: string; maxSize?: string; batchSize?: string; trainSplit?: string; testSplit?: string; json?: boolean;
}

export function registerCompareBackbones(program: Command): void {
  program
    .command('compare-backbones')
    .description('train and evaluate Faster R-CNN on several backbones under identical settings; prints a table like the paper\'s Tables 7-8')
    .requiredOption('--backbones <list>', 'comma-separated backbones, e.g. resnet50,vgg16 or resnet101,vgg16')
    .requiredOption('--data <dir>', 'dataset folder (as for train-detector)')
    .requiredOption('--format <voc|coco>', 'annotation format')
    .option('--preset <name>', `training recipe: ${RECIPE_NAMES.join(', ')} (default: voc / coco by format)`)
    .option('--weights <list>', 'pretrained backbone weights per backbone, e.g. resnet101=r101.pth,vgg16=vgg16.pth (the paper fine-tunes ImageNet models)')
    .option('--from-scratch', 'train the backbones without --weights from random weights (BN learning) under a fine-tuning preset (voc, coco)')
    .option('--out <dir>', 'one sub-folder per backbone', 'runs/compare')
    .option('--iterations <n>', 'updates per backbone (default: the preset\'s)')
    .option('--minutes <m>', 'wall-time budget per backbone')
    .option('--seed <s>', 'the same seed for every backbone', '0')
    .option('--batch-size <n>', 'images per update (preset)')
    .option('--min-size <px>', 'shorter image side (preset)')
    .option('--max-size <px>', 'cap on the longer side (preset)')
    .option('--train-split <name>', 'split to train on (preset)')
    .option('--test-split <name>', 'split to evaluate (default: test for VOC, val for COCO)')
    .option('--json', 'print the rows as JSON')
    .action(async (f: Flags) => {
      const format = parseFormat(f.format);
      const preset = (f.preset ?? format) as RecipeName;
      if (!(preset in RECIPES)) throw new UserError(`--preset: expected one of ${RECIPE_NAMES.join(', ')}, got ${JSON.stringify(preset)}`);
      const backbones = f.backbones.split(',').map((s) => s.trim()).filter(Boolean);
      if (backbones.length === 0) throw new UserError('--backbones: expected at least one backbone name');
      const testSplit = f.testSplit ?? RECIPES[preset].testSplit[format];
      const int = parseOptionalCount;
      const weights = f.weights === undefined ? new Map<string, string>() : parseBackboneWeights(f.weights, backbones);
      const options = {
        iterations: int(f.iterations, '--iterations'), minutes: f.minutes === undefined ? undefined : parsePositive(f.minutes, '--minutes'),
        seed: parseIntFlag(f.seed, '--seed'), minSize: int(f.minSize, '--min-size'), maxSize: int(f.maxSize, '--max-size'), batchSize: int(f.batchSize, '--batch-size'),
      };
      const info = await initBackend();
      process.stderr.write(`comparing ${backbones.join(', ')} on ${f.data} (${format}, preset ${preset}, backend ${info.chosen})\n`);
      const rows: ComparisonRow[] = [];
      const failures: ComparisonFailure[] = [];
      for (const backbone of backbones) {
        try {
          rows.push(await compareOne(backbone, weights.get(backbone), f, { format, preset, testSplit, ...options }));
        } catch (err) {
          const failure = { backbone, reason: failureReason(err) };
          failures.push(failure);
          process.stderr.write(`== ${backbone}: failed: ${failure.reason}\n`);
          if (process.env.RESDET_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
        }
      }
      if (rows.length > 0) process.stdout.write(f.json ? `${JSON.stringify(rows)}\n` : `${formatComparison(rows, format).join('\n')}\n`);
      else if (f.json) process.stdout.write('[]\n');
      if (failures.length > 0) {
        throw new UserError(`compare-backbones: ${failures.length} of ${backbones.length} backbones failed: ${failures.map((x) => `${x.backbone} (${x.reason})`).join('; ')}`);
      }
    });
}

interface RunSettings {
  format: 'voc' | 'coco'; preset: RecipeName; testSplit: string; iterations?: number; minutes?: number;
  seed: number; minSize?: number; maxSize?: number; batchSize?: number;
}

/** Trains and evaluates one backbone; its row. */
async function compareOne(backbone: string, weights: string | undefined, f: Flags, s: RunSettings): Promise<ComparisonRow> {
  process.stderr.write(`== ${backbone}: training${weights ? ` from ${weights}` : ''}\n`);
  const t = await trainDetector({
    data: f.data, format: s.format, preset: s.preset, backbone, out: path.join(f.out, backbone), split: f.trainSplit,
    iterations: s.iterations, minutes: s.minutes, seed: s.seed, minSize: s.minSize, maxSize: s.maxSize, batchSize: s.batchSize,
    label: backbone, ...(weights ? { weights } : f.fromScratch ? { fromScratch: true } : {}),
    onInfo: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(`== ${backbone}: evaluating on ${s.testSplit}\n`);
  const { model, spec } = loadDetector(t.checkpoint);
  try {
    const ev = await evaluateModel(model, spec, { data: f.data, format: s.format, split: s.testSplit, resultsDir: path.join(f.out, backbone, `results-${s.testSplit}`) });
    return {
      backbone, trainData: `${path.basename(path.resolve(t.config.train.data))} ${t.config.train.split}`, testData: `${path.basename(path.resolve(f.data))} ${s.testSplit}`,
      map50: s.format === 'voc' ? ev.metrics.voc.mAP07 : ev.metrics.coco.stats[1], map: ev.metrics.coco.stats[0],
      steps: t.step, trainSeconds: t.seconds, trainImagesPerSecond: t.imagesPerSecond, testImagesPerSecond: ev.imagesPerSecond, checkpoint: t.checkpoint,
      ...(weights ? { weights } : {}),
    };
  } finally {
    model.dispose();
  }
}
