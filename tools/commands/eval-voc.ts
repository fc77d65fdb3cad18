/**
 * `resdet eval voc`: PASCAL VOC mAP@0.5 of `comp4_det_test_<class>.txt` results against VOC XML
 * annotations, with voc_eval's exact semantics (src/eval/voc.ts), both the VOC2007 11-point and
 * the VOC2010+ area metric. Interface fixed by issue 2 (other tools call it):
 *
 *     resdet eval voc --annotations DIR --imageset FILE --dets DIR [--classes a,b,...] [--json] [--strict]
 *                     [--plot DIR] [--per-class csv|md] [--per-class-out FILE]
 *
 * `--json` prints exactly `{"classes": [...], "ap07": {cls: n}, "apArea": {cls: n}, "mAP07": n,
 * "mAPArea": n}` (a NaN AP, which voc_eval gives for a class with detections but no
 * non-difficult GT, is written as null).
 *
 * What the numbers cannot show gets a one-line warning on stderr: a class with no ground truth
 * in the image set (a misspelt `--classes` entry scores AP 0 and lowers the mean; an error with
 * `--strict`), results files of classes outside the class list (not read), and detections
 * lying entirely outside their image (scored, as voc_eval does: false positives).
 * --plot and --per-class (./eval-report.ts) add precision-recall PNGs and the per-class table
 * (GT, difficult, detections, AP07, AP area).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { VOC_CLASSES } from '../../datasets/voc/classes.ts';
import { checkClassList, loadVocImages, readImageSet } from '../../datasets/voc/devkit.ts';
import type { VocDetection, VocImage } from '../../datasets/voc/records.ts';
import { readVocResultsDir, resultsFileName } from '../../datasets/voc/results.ts';
import { inputError, quote, UserError } from '../../src/errors.ts';
import { vocPerClassTable } from '../../src/eval/per-class-table.ts';
import { vocPrCurves } from '../../src/eval/pr-curves.ts';
import { VocEvaluator, type VocEvalResult } from '../../src/eval/voc.ts';
import { addReportOptions, checkReportOptions, writeReports, type EvalReportOptions } from './eval-report.ts';

/** Options of `resdet eval voc` (commander camel-cases the flags). */
export interface EvalVocOptions extends EvalReportOptions {
  annotations: string;
  imageset: string;
  dets: string;
  classes?: string;
  json?: boolean;
  /** a class without ground truth is an error instead of a warning */
  strict?: boolean;
  /** where warnings go (one line each); default stderr */
  warn?: (line: string) => void;
}

/** The per-class table and the two means, 4 decimals (full precision is in --json). */
export function formatVocTable(r: VocEvalResult): string {
  const w = Math.max(5, ...r.classes.map((c) => c.length));
  const f = (x: number): string => (Number.isNaN(x) ? 'nan' : x.toFixed(4)).padStart(8);
  const lines = [`${'class'.padEnd(w)}  ${'AP07'.padStart(8)}  ${'AP(area)'.padStart(8)}`];
  for (const c of r.perClass) lines.push(`${c.name.padEnd(w)}  ${f(c.ap07)}  ${f(c.apArea)}`);
  lines.push(`${'mAP'.padEnd(w)}  ${f(r.mAP07)}  ${f(r.mAPArea)}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the evaluation for parsed options; returns the result (the action prints it). */
export function evalVoc(opts: EvalVocOptions): VocEvalResult {
  return runEvalVoc(opts).result;
}

/** {@link evalVoc} that also returns the evaluator (for its curves). */
function runEvalVoc(opts: EvalVocOptions): { result: VocEvalResult; evaluator: VocEvaluator } {
  const classes = opts.classes !== undefined ? opts.classes.split(',').map((c) => c.trim()) : [...VOC_CLASSES];
  checkClassList(classes, '--classes');
  for (const [flag, dir] of [['--annotations', opts.annotations], ['--dets', opts.dets]] as const) {
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw inputError(flag, '', `expected a folder, got ${quote(dir)}`);
  }
  const ids = readImageSet(opts.imageset);
  // Images are not opened; the devkit's JPEGImages beside Annotations is only recorded.
  const gt = loadVocImages(opts.annotations, ids, {
    imagesDir: path.join(opts.annotations, '..', 'JPEGImages'), classes, unknownClasses: 'ignore', idSource: opts.imageset,
  });
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`resdet: warning: ${line}\n`));
  if (gt.ignored.size > 0) {
    const list = [...gt.ignored].map(([n, k]) => `${n} (${k})`).join(', ');
    warn(`objects of classes outside the class list were ignored: ${list}`);
  }
  const withGt = new Set(gt.images.flatMap((im) => im.objects.map((o) => o.name)));
  const missing = classes.filter((c) => !withGt.has(c));
  if (missing.length > 0) {
    const what = `${missing.length} of ${classes.length} classes have no ground-truth object in ${opts.imageset}: ${missing.join(', ')}`;
    if (opts.strict) throw new UserError(`--classes: ${what} (--strict); check the spelling or the class list`);
    warn(`--classes: ${what}; each scores AP 0 and counts in the mAP (check the spelling; --strict makes this an error)`);
  }
  const foreign = foreignResultsFiles(opts.dets, classes);
  if (foreign.length > 0) {
    const lines = foreign.reduce((a, f) => a + f.detections, 0);
    const names = foreign.map((f) => f.name);
    warn(`${opts.dets}: ${foreign.length} results files of classes outside the class list were not read (${lines} detections): ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}`);
  }
  const dets = readVocResultsDir(opts.dets, classes, new Set(ids), path.basename(opts.imageset));
  const outside = detectionsOutside(gt.images, dets);
  if (outside.count > 0) {
    warn(`${opts.dets}: ${outside.count} detections lie entirely outside their image (first: ${outside.first}); they are scored as false positives, as voc_eval does`);
  }
  const evaluator = new VocEvaluator(gt.images, { classes });
  evaluator.process(dets);
  const result = evaluator.evaluate();
  for (const c of result.perClass) {
    if (Number.isNaN(c.apArea)) {
      warn(`class ${c.name} has detections but no non-difficult GT: its area AP is NaN, as in voc_eval`);
    }
  }
  return { result, evaluator };
}

/** `comp4_det_test_<class>.txt` files in `dir` whose class is not in `classes`, with their line counts. */
function foreignResultsFiles(dir: string, classes: readonly string[]): Array<{ name: string; detections: number }> {
  const known = new Set(classes.map((c) => resultsFileName(c)));
  return fs.readdirSync(dir).filter((n) => n.startsWith('comp4_det_test_') && n.endsWith('.txt') && !known.has(n)).sort().map((name) => {
    let text = '';
    try {
      text = fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      // unreadable: counted as a file without lines
    }
    return { name, detections: text.split('\n').filter((l) => l.trim() !== '').length };
  });
}

/**
 * Detections whose box does not overlap their image at all (x1 = xmin - 1 frame: the image
 * spans [0, width] x [0, height]).
 */
function detectionsOutside(images: readonly VocImage[], dets: readonly VocDetection[]): { count: number; first?: string } {
  const size = new Map(images.map((im) => [im.id, im]));
  let count = 0;
  let first: string | undefined;
  for (const d of dets) {
    const im = size.get(d.imageId);
    if (!im) continue;
    const [x1, y1, x2, y2] = d.box;
    if (x2 <= 0 || y2 <= 0 || x1 >= im.width || y1 >= im.height) {
      count++;
      first ??= `${resultsFileName(d.name)} image ${d.imageId}`;
    }
  }
  return { count, first };
}

/** Adds `voc` to the `eval` command. */
export function registerEvalVoc(evalCmd: Command): void {
  const cmd = evalCmd
    .command('voc')
    .description('PASCAL VOC mAP@0.5 of comp4_det_test_<class>.txt results (voc_eval: VOC2007 11-point and area metrics)')
    .requiredOption('--annotations <dir>', 'folder of <image id>.xml VOC annotations (VOCdevkit/VOC2007/Annotations)')
    .requiredOption('--imageset <file>', 'image-set file, one image id per line (ImageSets/Main/test.txt)')
    .requiredOption('--dets <dir>', 'folder of comp4_det_test_<class>.txt results; a missing file = no detections')
    .option('--classes <list>', 'comma-separated class list (default: the 20 VOC classes)')
    .option('--json', 'print one JSON object: {"classes", "ap07", "apArea", "mAP07", "mAPArea"}')
    .option('--strict', 'a class with no ground truth in the image set is an error (default: a warning)');
  addReportOptions(cmd, 'IoU 0.5')
    .action(async (opts: EvalVocOptions) => {
      const format = await checkReportOptions(opts);
      const { result: r, evaluator } = runEvalVoc(opts);
      let head: string;
      if (opts.json) {
        const { classes, ap07, apArea, mAP07, mAPArea } = r;
        head = `${JSON.stringify({ classes, ap07, apArea, mAP07, mAPArea })}\n`;
      } else {
        head = formatVocTable(r);
      }
      const tail = await writeReports(opts, format, () => vocPerClassTable(r), () => vocPrCurves(r, evaluator.curves()), r.classes);
      process.stdout.write(head + tail);
    });
}
