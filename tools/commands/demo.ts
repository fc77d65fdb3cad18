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
import { drawDetections } from '../../tasks/detection/draw.ts';
import { loadDetector } from '../../tasks/detection/model.ts';
import { evaluateModel } from '../../tasks/detection/pipeline.ts';
import { RECIPES, shapesAnchorSizes } from '../../tasks/detection/recipes.ts';
import { formatDuration } from '../../src/train/progress.ts';
import { trainDetector } from '../../tasks/detection/train.ts';
import { formatMetrics } from './evaluate.ts';
import { parseIntFlag, parsePositive, parseSize } from '../flags.ts';
import { UserError } from '../../src/errors.ts';

/** The demo's defaults (measured in docs/detection.md's demo section). */
export const DEMO_DEFAULTS = {
  /**
   * updates of 8 images, by backend: about 10 minutes on this 2-core machine each (native: 1200
   * updates in 9:53 in all on the 600 default images, VOC mAP@0.5 0.832, docs/experiments.md;
   * wasm: 160 in about 10 min on 240 images, 0.363)
   */
  iterations: { native: 1200, other: 160 },
  /**
   * the rate drops 10x after this fraction of the updates: BN's running statistics (momentum
   * 0.1) trail weights that move fast, so a detector evaluated straight after constant-rate
   * training scores far below its training loss (measured: 0.343 after 100 constant-rate steps);
   * the slow steps let them catch up (the `tiny` recipe's finding, tasks/detection/recipes.ts)
   */
  dropAt: 0.75,
  /** wall-time cap on training (a slow or loaded machine stops early, with a checkpoint) */
  minutes: 15,
  /**
   * images generated (80% train, 20% test): 600, not 240, because 192 training images overfit
   * (training loss 0.17 against test mAP 0.64 after 1200 updates) and images cost nothing here
   */
  images: 600,
  width: 128,
  height: 96,
  classes: ['circle', 'square', 'triangle'] as ShapeClass[],
  lr: 0.02,
  /** test images drawn */
  drawn: 6,
  /**
   * score of the boxes drawn: 0.5, where 0.3 drew second, low-score boxes (circle 0.32 inside a
   * triangle 0.92) over the confident ones of the 600-image default run
   */
  drawThreshold: 0.5,
};

/**
 * The demo's recipe for its image size: the `shapes` recipe with the images taken as they are
 * (shorter side = the generated one, longer side capped at the recipe's 5:3) and anchors
 * matched to the objects at that size ({@link shapesAnchorSizes}); at the default 128x96 this is
 * the shapes recipe itself (shorter side 96, anchors 16/32/64).
 */
export function demoInput(width: number, height: number): { minSize: number; maxSize: number; anchorSizes: number[] } {
  const short = Math.min(width, height);
  return { minSize: short, maxSize: Math.ceil((short * RECIPES.shapes.maxSize) / RECIPES.shapes.minSize), anchorSizes: shapesAnchorSizes(short) };
}

/** "circle, triangle x2": what an image holds, for its picture's title. */
export function describeTruth(labels: ArrayLike<number>, classes: readonly string[]): string {
  const counts = new Map<number, number>();
  for (const l of Array.from(labels)) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([l, n]) => `${classes[l] ?? l}${n > 1 ? ` x${n}` : ''}`).join(', ') || 'nothing';
}

/** Tiles PNGs into one picture, `columns` wide, with an 8-pixel gap. */
async function contactSheet(files: string[], out: string, columns = 3): Promise<void> {
  const metas = await Promise.all(files.map((f) => sharp(f).metadata()));
  const cw = Math.max(...metas.map((m) => m.width ?? 0)) + 8;
  const ch = Math.max(...metas.map((m) => m.height ?? 0)) + 8;
  const rows = Math.ceil(files.length / columns);
  await sharp({ create: { width: cw * Math.min(columns, files.length), height: ch * rows, channels: 3, background: '#202020' } })
    .composite(files.map((f, i) => ({ input: f, left: (i % columns) * cw + 4, top: Math.floor(i / columns) * ch + 4 })))
    .png()
    .toFile(out);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('generate a shapes set, train a small Faster R-CNN for a few minutes, evaluate it and draw its detections')
    .option('--out <dir>', 'folder for the data, checkpoint, log, results and pictures', 'runs/demo')
    .option('--iterations <n>', `training updates (8 images each) (default: ${DEMO_DEFAULTS.iterations.native} on the native backend, ${DEMO_DEFAULTS.iterations.other} on the others)`)
    .option('--minutes <m>', 'cap on the training wall time', String(DEMO_DEFAULTS.minutes))
    .option('--images <n>', 'images to generate (80% train, 20% test)', String(DEMO_DEFAULTS.images))
    .option('--seed <s>', 'seed of the data and of training', '0')
    .option('--size <WxH>', 'generated image size, taken as it is (anchors follow it)', `${DEMO_DEFAULTS.width}x${DEMO_DEFAULTS.height}`)
    .option('--lr <rate>', 'learning rate', String(DEMO_DEFAULTS.lr))
    .option('--drop-at <fraction>', 'the rate drops 10x after this fraction of the updates (1: never)', String(DEMO_DEFAULTS.dropAt))
    .option('--draw-threshold <score>', 'draw detections with at least this score', String(DEMO_DEFAULTS.drawThreshold))
    .action(async (f: { out: string; iterations?: string; minutes: string; images: string; seed: string; size: string; lr: string; dropAt: string; drawThreshold: string }) => {

      const minutes = parsePositive(f.minutes, '--minutes');
      const images = parseIntFlag(f.images, '--images', 10);
      const seed = parseIntFlag(f.seed, '--seed');
      const [width, height] = parseSize(f.size);
      const lr = parsePositive(f.lr, '--lr');
      const dropAt = parsePositive(f.dropAt, '--drop-at');
      if (dropAt > 1) throw new UserError(`--drop-at: expected a fraction in (0, 1], got ${JSON.stringify(f.dropAt)}`);
      const drawThreshold = Number(f.drawThreshold);
      if (!(drawThreshold >= 0 && drawThreshold <= 1)) throw new UserError(`--draw-threshold: expected a score in [0, 1], got ${JSON.stringify(f.drawThreshold)}`);
      const input = demoInput(width, height);
      const out = path.resolve(f.out);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const info = await initBackend();
      const iterations = f.iterations !== undefined ? parseIntFlag(f.iterations, '--iterations', 1)
        : info.chosen === 'native' ? DEMO_DEFAULTS.iterations.native : DEMO_DEFAULTS.iterations.other;
      say(`resdet demo: ${images} synthetic images, ${iterations} training updates (at most ${minutes} min) on the ${info.chosen} backend, then evaluation (output in ${out})`);

      const data = path.join(out, 'shapes');
      const t0 = Date.now();
      const shapes = await makeShapes({
        out: data, images, seed, width, height, classes: DEMO_DEFAULTS.classes, force: true,
      });
      say(`1/4 data: ${shapes.train} train + ${shapes.val} test images (${shapes.objects} objects: ${shapes.classes.join(', ')}) in ${formatDuration((Date.now() - t0) / 1000)}`);

      const drop = Math.round(iterations * dropAt);
      const steps = drop > 0 && drop < iterations ? [drop] : [];
      say(`2/4 training Faster R-CNN ResNet-18 for ${iterations} updates, lr ${lr}${steps.length ? ` then / 10 from update ${drop}` : ''} (recipe 'shapes': shorter side ${input.minSize}, anchors ${input.anchorSizes.join('/')}, from scratch)`);
      // Batches hold one orientation (datasets/detection/batches.ts) and the generated sizes are
      // jittered, so a small --images may not hold 8 train images of one orientation: cap the batch.
      const train = loadDetectionSet({ data, format: 'voc', split: RECIPES.shapes.trainSplit.voc }).records;
      const landscape = train.filter((r) => r.width >= r.height).length;
      const batchSize = Math.min(RECIPES.shapes.batchSize, Math.max(landscape, train.length - landscape));
      const trained = await trainDetector({
        data, format: 'voc', preset: 'shapes', out: path.join(out, 'model'), seed, minutes, iterations, lr, steps,
        checkpointEvery: 10, batchSize, minSize: input.minSize, maxSize: input.maxSize, detector: { rpn: { anchorSizes: input.anchorSizes } },
      });
      say(`    ${trained.step} steps in ${formatDuration(trained.seconds)} (${trained.imagesPerSecond.toFixed(2)} images/s)`);

      say('3/4 evaluating on the held-out test images');
      const { model, spec } = loadDetector(trained.checkpoint);
      try {
        const ev = await evaluateModel(model, spec, { data, format: 'voc', split: 'test', resultsDir: path.join(out, 'results') });
        for (const line of formatMetrics(ev.metrics)) say(`    ${line}`);

        say(`4/4 drawing detections (score >= ${drawThreshold}; each title names the objects the image truly holds)`);
        const drawDir = path.join(out, 'detections');
        fs.mkdirSync(drawDir, { recursive: true });
        const drawn: string[] = [];
        for (const [i, r] of ev.set.records.slice(0, DEMO_DEFAULTS.drawn).entries()) {
          const d = ev.detections[i];
          const keep = Array.from(d.scores.keys()).filter((k) => d.scores[k] >= drawThreshold);
          const file = path.join(drawDir, `${r.id}.png`);
          await drawDetections(r.imagePath, r, {
            boxes: Float32Array.from(keep.flatMap((k) => Array.from(d.boxes.subarray(4 * k, 4 * k + 4)))),
            scores: Float32Array.from(keep.map((k) => d.scores[k])),
            labels: Int32Array.from(keep.map((k) => d.labels[k])),
          }, spec.classes, file, { title: `${r.id}: ${describeTruth(r.labels, spec.classes)}` });
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
