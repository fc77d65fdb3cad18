/**
 * `resdet eval voc`: PASCAL VOC mAP@0.5 of `comp4_det_test_<class>.txt` results against VOC XML
 * annotations, with voc_eval's exact semantics (src/eval/voc.ts), both the VOC2007 11-point and
 * the VOC2010+ area metric. Interface fixed by issue 2 (other tools call it):
 *
 *     resdet eval voc --annotations DIR --imageset FILE --dets DIR [--classes a,b,...] [--json]
 *
 * `--json` prints exactly `{"classes": [...], "ap07": {cls: n}, "apArea": {cls: n}, "mAP07": n,
 * "mAPArea": n}` (a NaN AP, which voc_eval gives for a class with detections but no
 * non-difficult GT, is written as null).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { VOC_CLASSES } from '../../datasets/voc/classes.ts';
import { checkClassList, loadVocImages, readImageSet } from '../../datasets/voc/devkit.ts';
import { readVocResultsDir } from '../../datasets/voc/results.ts';
import { inputError, quote } from '../../src/errors.ts';
import { VocEvaluator, type VocEvalResult } from '../../src/eval/voc.ts';

/** Options of `resdet eval voc` (commander camel-cases the flags). */
export interface EvalVocOptions {
  annotations: string;
  imageset: string;
  dets: string;
  classes?: string;
  json?: boolean;
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
  if (gt.ignored.size > 0) {
    const list = [...gt.ignored].map(([n, k]) => `${n} (${k})`).join(', ');
    process.stderr.write(`resdet: warning: objects of classes outside the class list were ignored: ${list}\n`);
  }
  const dets = readVocResultsDir(opts.dets, classes, new Set(ids), path.basename(opts.imageset));
  const evaluator = new VocEvaluator(gt.images, { classes });
  evaluator.process(dets);
  const result = evaluator.evaluate();
  for (const c of result.perClass) {
    if (Number.isNaN(c.apArea)) {
      process.stderr.write(`resdet: warning: class ${c.name} has detections but no non-difficult GT: its area AP is NaN, as in voc_eval\n`);
    }
  }
  return result;
}

/** Adds `voc` to the `eval` command. */
export function registerEvalVoc(evalCmd: Command): void {
  evalCmd
    .command('voc')
    .description('PASCAL VOC mAP@0.5 of comp4_det_test_<class>.txt results (voc_eval: VOC2007 11-point and area metrics)')
    .requiredOption('--annotations <dir>', 'folder of <image id>.xml VOC annotations (VOCdevkit/VOC2007/Annotations)')
    .requiredOption('--imageset <file>', 'image-set file, one image id per line (ImageSets/Main/test.txt)')
    .requiredOption('--dets <dir>', 'folder of comp4_det_test_<class>.txt results; a missing file = no detections')
    .option('--classes <list>', 'comma-separated class list (default: the 20 VOC classes)')
    .option('--json', 'print one JSON object: {"classes", "ap07", "apArea", "mAP07", "mAPArea"}')
    .action((opts: EvalVocOptions) => {
      const r = evalVoc(opts);
      if (opts.json) {
        const { classes, ap07, apArea, mAP07, mAPArea } = r;
        process.stdout.write(`${JSON.stringify({ classes, ap07, apArea, mAP07, mAPArea })}\n`);
      } else {
        process.stdout.write(formatVocTable(r));
      }
    });
}
