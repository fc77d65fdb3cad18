/**
 * `resdet compare-backbones`: trains and evaluates Faster R-CNN on several backbones with
 * identical settings (data, recipe, budget, seed) and prints a table in the layout of the
 * paper's Tables 7 and 8 (training data, test data, mAP@.5, mAP@[.5,.95]) with training time and
 * images/s per backbone.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../../src/backend/index.ts';
import { UserError } from '../../src/errors.ts';
import { loadDetector } from '../detection/model.ts';
import { evaluateModel } from '../detection/pipeline.ts';
import { formatDuration } from '../../src/train/progress.ts';
import { RECIPES, RECIPE_NAMES, type RecipeName } from '../detection/recipes.ts';
import { trainDetector } from '../detection/train.ts';
import { parseIntFlag } from './make-shapes.ts';
import { parseFormat, parsePositive } from './train-detector.ts';

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
  seed: string; minSize?: string; maxSize?: string; batchSize?: string; trainSplit?: string; testSplit?: string; json?: boolean;
}

export function registerCompareBackbones(program: Command): void {
  program
    .command('compare-backbones')
    .description('train and evaluate Faster R-CNN on several backbones under identical settings; prints a table like the paper\'s Tables 7-8')
    .requiredOption('--backbones <list>', 'comma-separated backbones, e.g. resnet50,vgg16 or resnet101,vgg16')
    .requiredOption('--data <dir>', 'dataset folder (as for train-detector)')
    .requiredOption('--format <voc|coco>', 'annotation format')
    .option('--preset <name>', `training recipe: ${RECIPE_NAMES.join(', ')} (default: voc / coco by format)`)
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
      const int = (v: string | undefined, flag: string) => (v === undefined ? undefined : parseIntFlag(v, flag, 1));
      const info = await initBackend();
      process.stderr.write(`comparing ${backbones.join(', ')} on ${f.data} (${format}, preset ${preset}, backend ${info.chosen})\n`);
      const rows: ComparisonRow[] = [];
      for (const backbone of backbones) {
        process.stderr.write(`== ${backbone}: training\n`);
        const t = await trainDetector({
          data: f.data, format, preset, backbone, out: path.join(f.out, backbone), split: f.trainSplit,
          iterations: int(f.iterations, '--iterations'), minutes: f.minutes === undefined ? undefined : parsePositive(f.minutes, '--minutes'),
          seed: parseIntFlag(f.seed, '--seed'), minSize: int(f.minSize, '--min-size'), maxSize: int(f.maxSize, '--max-size'), batchSize: int(f.batchSize, '--batch-size'),
          label: backbone,
        });
        process.stderr.write(`== ${backbone}: evaluating on ${testSplit}\n`);
        const { model, spec } = loadDetector(t.checkpoint);
        try {
          const ev = await evaluateModel(model, spec, { data: f.data, format, split: testSplit, resultsDir: path.join(f.out, backbone, `results-${testSplit}`) });
          rows.push({
            backbone, trainData: `${path.basename(path.resolve(t.config.train.data))} ${t.config.train.split}`, testData: `${path.basename(path.resolve(f.data))} ${testSplit}`,
            map50: format === 'voc' ? ev.metrics.voc.mAP07 : ev.metrics.coco.stats[1], map: ev.metrics.coco.stats[0],
            steps: t.step, trainSeconds: t.seconds, trainImagesPerSecond: t.imagesPerSecond, testImagesPerSecond: ev.imagesPerSecond, checkpoint: t.checkpoint,
          });
        } finally {
          model.dispose();
        }
      }
      process.stdout.write(f.json ? `${JSON.stringify(rows)}\n` : `${formatComparison(rows, format).join('\n')}\n`);
    });
}
