/**
 * `resdet evaluate`: runs a trained detector over a VOC- or COCO-format set, writes the
 * detections in the set's standard results format and prints VOC mAP@0.5 (2007 11-point and
 * area) and the COCO summary (mAP@.5, mAP@[.5,.95], ...) from resdet's exact evaluators.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../../src/backend/index.ts';
import { metricsJson, type DetectionMetrics } from '../../tasks/detection/evaluation.ts';
import { loadDetector } from '../../tasks/detection/model.ts';
import { evaluateModel } from '../../tasks/detection/pipeline.ts';
import { classesWithoutGt } from '../../src/eval/voc.ts';
import { formatDuration } from '../../src/train/progress.ts';
import { parseFormat } from '../flags.ts';

/** The human-readable report: per-class VOC APs, both VOC means, the COCO summary lines. */
export function formatMetrics(m: DetectionMetrics): string[] {
  const w = Math.max(5, ...m.voc.perClass.map((r) => r.name.length));
  return [
    `${'class'.padEnd(w)}  AP07    AParea  GT`,
    ...m.voc.perClass.map((r) => `${r.name.padEnd(w)}  ${r.ap07.toFixed(4)}  ${r.apArea.toFixed(4)}  ${r.npos}`),
    `VOC mAP@0.5: ${m.voc.mAP07.toFixed(4)} (VOC2007 11-point), ${m.voc.mAPArea.toFixed(4)} (area)`,
    `COCO mAP@.5: ${m.coco.stats[1].toFixed(4)}, mAP@[.5,.95]: ${m.coco.stats[0].toFixed(4)}`,
    ...m.coco.summary,
  ];
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('run a trained detector over a dataset, write standard results files, print VOC and COCO mAP')
    .requiredOption('--checkpoint <file>', 'a checkpoint written by resdet train-detector')
    .requiredOption('--data <dir>', 'dataset folder (as for train-detector)')
    .requiredOption('--format <voc|coco>', 'annotation format')
    .option('--split <name>', 'split to evaluate (default: test for VOC, val for COCO)')
    .option('--results <dir>', 'folder for the results files (default: results-<split> beside the checkpoint)')
    .option('--json', 'print {"voc": {"mAP07", "mAPArea"}, "coco": {"stats": [12 numbers]}} only')
    .action(async (f: { checkpoint: string; data: string; format: string; split?: string; results?: string; json?: boolean }) => {
      const format = parseFormat(f.format);
      const split = f.split ?? (format === 'voc' ? 'test' : 'val');
      await initBackend();
      const { model, spec } = loadDetector(f.checkpoint);
      try {
        const resultsDir = path.resolve(f.results ?? path.join(path.dirname(path.resolve(f.checkpoint)), `results-${split}`));
        const run = await evaluateModel(model, spec, { data: f.data, format, split, resultsDir });
        const missing = classesWithoutGt(run.metrics.voc);
        if (missing.length > 0) {
          process.stderr.write(`resdet: warning: ${missing.length} of ${spec.classes.length} classes of the checkpoint have no ground-truth object in ${run.set.description}: ${missing.join(', ')}; each scores AP 0 and counts in the VOC mAP\n`);
        }
        if (f.json) {
          process.stdout.write(`${JSON.stringify(metricsJson(run.metrics))}\n`);
          return;
        }
        process.stdout.write([
          `evaluated ${spec.backbone} Faster R-CNN on ${run.set.description} in ${formatDuration(run.seconds)} (${run.imagesPerSecond.toFixed(2)} images/s)`,
          ...formatMetrics(run.metrics),
          `results: ${run.results}`,
          '',
        ].join('\n'));
      } finally {
        model.dispose();
      }
    });
}
