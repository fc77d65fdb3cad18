/**
 * `resdet demo`: the main job on a fresh machine with nothing downloaded. Generates a synthetic
 * shapes set, trains a small Faster R-CNN (ResNet-18 trunk, the `shapes` recipe) for a number of
 * updates (with a wall-time cap), evaluates it (VOC and COCO mAP), draws its detections and
 * prints where everything is. Every number it prints is measured by this run.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { loadDetectionSet } from '../../datasets/detection/index.ts';
import { makeShapes, type ShapeClass } from '../../datasets/shapes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { drawDetections } from '../detection/draw.ts';
import { loadDetector } from '../detection/model.ts';
import { evaluateModel } from '../detection/pipeline.ts';
import { RECIPES } from '../detection/recipes.ts';
import { formatDuration } from '../../src/train/progress.ts';
import { trainDetector } from '../detection/train.ts';
import { formatMetrics } from './evaluate.ts';
import { parseIntFlag } from './make-shapes.ts';
import { parsePositive } from './train-detector.ts';

/** The demo's defaults (measured in the README's demo section). */
export const DEMO_DEFAULTS = {
  /** updates of 8 images */
  iterations: 160,
  /**
   * the rate drops 10x after this fraction of the updates: BN's running statistics (momentum
   * 0.1) trail weights that move fast, so a detector evaluated straight after constant-rate
   * training scores far below its training loss (measured: 0.343 after 100 constant-rate steps);
   * the slow steps let them catch up (the `tiny` recipe's finding, tools/detection/recipes.ts)
   */
  dropAt: 0.75,
  /** wall-time cap on training (a slow or loaded machine stops early, with a checkpoint) */
  minutes: 15,
  images: 240,
  width: 128,
  height: 96,
  classes: ['circle', 'square', 'triangle'] as ShapeClass[],
  lr: 0.02,
  /** test images drawn */
  drawn: 6,
  /** score of the boxes drawn (a few minutes of training leaves the detector unsure) */
  drawThreshold: 0.3,
};

/** Tiles PNGs into one picture, `columns` wide, with a 4-pixel gap. */
async function contactSheet(files: string[], out: string, columns = 3): Promise<void> {
  const metas = await Promise.all(files.map((f) => sharp(f).metadata()));
  const cw = Math.max(...metas.map((m) => m.width ?? 0)) + 4;
  const ch = Math.max(...metas.map((m) => m.height ?? 0)) + 4;
  const rows = Math.ceil(files.length / columns);
  await sharp({ create: { width: cw * Math.min(columns, files.length), height: ch * rows, channels: 3, background: '#202020' } })
    .composite(files.map((f, i) => ({ input: f, left: (i % columns) * cw + 2, top: Math.floor(i / columns) * ch + 2 })))
    .png()
    .toFile(out);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate a shapes set, train a small Faster R-CNN for a few minutes, evaluate it and draw its detections')
    .option('--out <dir>', 'folder for the data, checkpoint, log, results and pictures', 'runs/demo')
    .option('--iterations <n>', 'training updates (8 images each)', String(DEMO_DEFAULTS.iterations))
    .option('--minutes <m>', 'cap on the training wall time', String(DEMO_DEFAULTS.minutes))
    .option('--images <n>', 'images to generate (80% train, 20% test)', String(DEMO_DEFAULTS.images))
    .option('--seed <s>', 'seed of the data and of training', '0')
    .action(async (f: { out: string; iterations: string; minutes: string; images: string; seed: string }) => {
      const iterations = parseIntFlag(f.iterations, '--iterations', 1);
      const minutes = parsePositive(f.minutes, '--minutes');
      const images = parseIntFlag(f.images, '--images', 10);
      const seed = parseIntFlag(f.seed, '--seed');
      const out = path.resolve(f.out);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const info = await initBackend();
      say(`resdet demo: ${images} synthetic images, ${iterations} training updates (at most ${minutes} min) on the ${info.chosen} backend, then evaluation (output in ${out})`);

      const data = path.join(out, 'shapes');
      const t0 = Date.now();
      const shapes = await makeShapes({
        out: data, images, seed, width: DEMO_DEFAULTS.width, height: DEMO_DEFAULTS.height, classes: DEMO_DEFAULTS.classes, force: true,
      });
      say(`1/4 data: ${shapes.train} train + ${shapes.val} test images (${shapes.objects} objects: ${shapes.classes.join(', ')}) in ${formatDuration((Date.now() - t0) / 1000)}`);

      const drop = Math.round(iterations * DEMO_DEFAULTS.dropAt);
      say(`2/4 training Faster R-CNN ResNet-18 for ${iterations} updates, lr ${DEMO_DEFAULTS.lr} then / 10 from update ${drop} (recipe 'shapes': shorter side 96, anchors 16/32/64, from scratch)`);
      // Batches hold one orientation (datasets/detection/batches.ts) and the generated sizes are
      // jittered, so a small --images may not hold 8 train images of one orientation: cap the batch.
      const train = loadDetectionSet({ data, format: 'voc', split: RECIPES.shapes.trainSplit.voc }).records;
      const landscape = train.filter((r) => r.width >= r.height).length;
      const batchSize = Math.min(RECIPES.shapes.batchSize, Math.max(landscape, train.length - landscape));
      const trained = await trainDetector({
        data, format: 'voc', preset: 'shapes', out: path.join(out, 'model'), seed, minutes, iterations, lr: DEMO_DEFAULTS.lr, steps: drop > 0 && drop < iterations ? [drop] : [],
        checkpointEvery: 10, batchSize,
      });
      say(`    ${trained.step} steps in ${formatDuration(trained.seconds)} (${trained.imagesPerSecond.toFixed(2)} images/s)`);

      say('3/4 evaluating on the held-out test images');
      const { model, spec } = loadDetector(trained.checkpoint);
      try {
        const ev = await evaluateModel(model, spec, { data, format: 'voc', split: 'test', resultsDir: path.join(out, 'results') });
        for (const line of formatMetrics(ev.metrics)) say(`    ${line}`);

        say(`4/4 drawing detections (score >= ${DEMO_DEFAULTS.drawThreshold})`);
        const drawDir = path.join(out, 'detections');
        fs.mkdirSync(drawDir, { recursive: true });
        const drawn: string[] = [];
        for (const [i, r] of ev.set.records.slice(0, DEMO_DEFAULTS.drawn).entries()) {
          const d = ev.detections[i];
          const keep = Array.from(d.scores.keys()).filter((k) => d.scores[k] >= DEMO_DEFAULTS.drawThreshold);
          const file = path.join(drawDir, `${r.id}.png`);
          await drawDetections(r.imagePath, r, {
            boxes: Float32Array.from(keep.flatMap((k) => Array.from(d.boxes.subarray(4 * k, 4 * k + 4)))),
            scores: Float32Array.from(keep.map((k) => d.scores[k])),
            labels: Int32Array.from(keep.map((k) => d.labels[k])),
          }, spec.classes, file);
          drawn.push(file);
        }
        const sheet = path.join(out, 'detections.png');
        await contactSheet(drawn, sheet);
        say('');
        say(`VOC mAP@0.5 ${ev.metrics.voc.mAP07.toFixed(3)} (07) / ${ev.metrics.voc.mAPArea.toFixed(3)} (area); COCO mAP@.5 ${ev.metrics.coco.stats[1].toFixed(3)}, mAP@[.5,.95] ${ev.metrics.coco.stats[0].toFixed(3)}; ${trained.step} steps, total ${formatDuration((Date.now() - t0) / 1000)}`);
        say(`data:       ${data} (VOC: ${shapes.vocRoot}, COCO: ${data}/annotations)`);
        say(`checkpoint: ${trained.checkpoint}`);
        say(`log:        ${trained.logFile} (curves: ${trained.plotFile})`);
        say(`results:    ${ev.results}`);
        say(`pictures:   ${sheet} (and ${drawDir}/)`);
        say(`next:       npx resdet detect --checkpoint ${trained.checkpoint} IMAGE... --draw DIR`);
      } finally {
        model.dispose();
      }
    });
}
