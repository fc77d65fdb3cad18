/**
 * Training a Faster R-CNN on a detection set with the shared trainer (src/train/trainer.ts):
 * the detection task (the four losses of `FasterRCNN.losses`), the aspect-grouped prefetching
 * batch source, the step schedule, checkpoints that carry the detector spec (./model.ts), and
 * exact resume. Used by `resdet train-detector`, `compare-backbones` and `demo`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DetectionBatchSource, loadDetectionSet, packImages, PIXEL_NORMS, type DetectionBatch, type DetectionSet, type PixelNormName } from '../../datasets/detection/index.ts';
import type { FasterRCNN } from '../../detectors/index.ts';
import { UserError } from '../../src/errors.ts';
import { stepLr } from '../../src/train/schedule.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.ts';
import { MetricsLog, readMetricsLog } from '../../src/train/metrics-log.ts';
import { TrainingProgress } from '../../src/train/progress.ts';
import { Trainer, type LogRow, type StepInfo, type TrainTask } from '../../src/train/trainer.ts';
import { importWeights } from '../../src/weights/import.ts';
import { DataParallel, DataParallelError } from '../../src/parallel/data-parallel.ts';
import { shardSizes } from '../../src/parallel/shards.ts';
import { writeLossPlot } from './loss-plot.ts';
import { buildDetector, DETECTOR_CHECKPOINT_KIND, detectorSpecOf, type DetectorSpec } from './model.ts';
import { RECIPES, type Recipe, type RecipeName } from './recipes.ts';

/** The training settings stored in the checkpoint beside the spec (resume reuses them). */
export interface TrainSettings extends Pick<Recipe, 'batchSize' | 'lr' | 'steps' | 'iterations' | 'momentum' | 'weightDecay' | 'flip'> {
  preset: RecipeName;
  data: string;
  format: 'voc' | 'coco';
  split: string;
  seed: number;
  /** pretrained backbone weights the run started from */
  weights?: string;
}

/** A detector checkpoint's whole config. */
export type DetectorRunConfig = DetectorSpec & { train: TrainSettings };

/** Options of {@link trainDetector}; unset fields come from the preset. */
export interface TrainDetectorOptions {
  data: string;
  format: 'voc' | 'coco';
  preset?: RecipeName;
  backbone?: string;
  split?: string;
  /** override the class list (VOC); default from the data */
  classes?: string[];
  weights?: string;
  out: string;
  iterations?: number;
  minutes?: number;
  resume?: boolean;
  seed?: number;
  minSize?: number;
  maxSize?: number;
  batchSize?: number;
  lr?: number;
  steps?: number[];
  norm?: PixelNormName;
  /** checkpoint every this many steps (and at the end); default 500 */
  checkpointEvery?: number;
  /** log row every this many steps; default 20 */
  logEvery?: number;
  /** show the progress bar (stderr; plain lines per log row without a terminal); default true */
  progress?: boolean;
  /** label in front of the progress bar, e.g. the backbone */
  label?: string;
  /**
   * threads computing each step, data parallel over the batch's images (src/parallel/);
   * default 1. A resumed run repeats the straight one exactly only with the same count.
   */
  workers?: number;
  onStep?(info: StepInfo): void;
  onLog?(row: LogRow): void;
  /** free-form messages (what was loaded, resumed, ...) */
  onInfo?(line: string): void;
}

/** What a run did. */
export interface TrainDetectorResult {
  checkpoint: string;
  step: number;
  /** steps done by this process */
  stepsThisRun: number;
  seconds: number;
  imagesPerSecond: number;
  config: DetectorRunConfig;
  set: DetectionSet;
  logFile: string;
  /** the loss curves, `<out>/losses.png` */
  plotFile: string;
}

/** Splits a batch's images into at most `parts` contiguous shards of near-equal size. */
export function splitDetectionBatch(batch: DetectionBatch, parts: number): DetectionBatch[] {
  let start = 0;
  return shardSizes(batch.images.length, parts).map((size) => {
    start += size;
    return { ...batch, images: batch.images.slice(start - size, start) };
  });
}

/** The trainer task: sum of the four losses; the parts are logged. */
export function detectionTask(model: FasterRCNN, divisor = 16): TrainTask<DetectionBatch> {
  return {
    step(batch) {
      const packed = packImages(batch.images, divisor);
      const images = tf.tensor4d(packed.data, packed.shape);
      const targets = batch.images.map((m) => ({ boxes: m.boxes, labels: m.labels.map((l) => l + 1) }));
      const sizes = batch.images.map((m) => ({ height: m.height, width: m.width, scaleX: m.scaleX, scaleY: m.scaleY }));
      const l = model.losses(images, targets, sizes);
      return { loss: l.total, metrics: { rpn_cls: l.rpnCls, rpn_box: l.rpnBox, cls: l.cls, box: l.box }, examples: batch.images.length };
    },
  };
}

function positiveInt(v: number | undefined, flag: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new UserError(`${flag}: expected a positive integer, got ${v}`);
}

/** The checkpoint path inside `out`. */
export function checkpointPath(out: string): string {
  return path.join(path.resolve(out), 'checkpoint.safetensors');
}

/** Builds the run config from flags over the preset (a fresh run). */
function freshConfig(o: TrainDetectorOptions, set: DetectionSet): DetectorRunConfig {
  const preset: RecipeName = o.preset ?? (o.format === 'coco' ? 'coco' : 'voc');
  const r: Recipe = RECIPES[preset];
  const seed = o.seed ?? 0;
  return {
    kind: DETECTOR_CHECKPOINT_KIND,
    backbone: o.backbone ?? r.backbone,
    classes: [...set.classes],
    detector: { ...r.detector, seed },
    ...(r.pooledSize !== undefined ? { pooledSize: r.pooledSize } : {}),
    input: { minSize: o.minSize ?? r.minSize, maxSize: o.maxSize ?? r.maxSize, norm: o.norm ?? r.norm },
    train: {
      preset, data: o.data, format: o.format, split: o.split ?? r.trainSplit[o.format],
      batchSize: o.batchSize ?? r.batchSize, lr: o.lr ?? r.lr, steps: o.steps ?? [...r.steps],
      iterations: o.iterations ?? r.iterations, momentum: r.momentum, weightDecay: r.weightDecay, flip: r.flip, seed,
      ...(o.weights ? { weights: path.resolve(o.weights) } : {}),
    },
  };
}

/**
 * Trains (or, with `resume`, continues training) a detector; see the module comment.
 * Budget: `iterations` in total (default the preset's), and/or `minutes` of wall time in this
 * process, after which a checkpoint is written that `resume` continues from.
 */
export async function trainDetector(o: TrainDetectorOptions): Promise<TrainDetectorResult> {
  positiveInt(o.iterations, '--iterations');
  positiveInt(o.batchSize, '--batch-size');
  if (o.minutes !== undefined && !(o.minutes > 0)) throw new UserError(`--minutes: expected a positive number, got ${o.minutes}`);
  if (o.preset !== undefined && !(o.preset in RECIPES)) throw new UserError(`--preset: expected one of ${Object.keys(RECIPES).join(', ')}, got ${JSON.stringify(o.preset)}`);
  if (o.norm !== undefined && !(o.norm in PIXEL_NORMS)) throw new UserError(`--norm: expected one of ${Object.keys(PIXEL_NORMS).join(', ')}, got ${JSON.stringify(o.norm)}`);
  const out = path.resolve(o.out);
  const ckptFile = checkpointPath(out);
  fs.mkdirSync(out, { recursive: true });

  let config: DetectorRunConfig;
  let resumeFrom: ReturnType<typeof loadCheckpoint> | undefined;
  if (o.resume) {
    if (!fs.existsSync(ckptFile)) throw new UserError(`${ckptFile}: --resume: no checkpoint to resume from (train without --resume first)`);
    resumeFrom = loadCheckpoint(ckptFile);
    const prev = resumeFrom.config as DetectorRunConfig;
    detectorSpecOf(prev, ckptFile);
    // The run continues with its own settings; only the budget may change.
    config = { ...prev, train: { ...prev.train, iterations: o.iterations ?? prev.train.iterations } };
  } else {
    const preset = o.preset ?? (o.format === 'coco' ? 'coco' : 'voc');
    const set0 = loadDetectionSet({ data: o.data, format: o.format, split: o.split ?? RECIPES[preset].trainSplit[o.format], classes: o.classes });
    config = freshConfig(o, set0);
  }
  const t = config.train;
  const set = loadDetectionSet({ data: t.data, format: t.format, split: t.split, classes: config.classes });
  if (set.records.length === 0) throw new UserError(`${t.data}: --split ${t.split}: no images to train on`);

  // A resumed run loads every weight from its checkpoint, --weights every backbone weight: the
  // backbone's random draws would be thrown away (the RPN and RoI heads are drawn either way).
  const model = buildDetector(config, resumeFrom || t.weights ? 'none' : 'random');
  try {
    if (!resumeFrom && t.weights) {
      // the ImageNet classifier (fc) is unused by the detector: a file without it imports too
      const report = await importWeights(model.backbone, t.weights, { optional: model.backbone.detection?.unused });
      o.onInfo?.(`imported ${report.loaded} ${report.format} tensors from ${t.weights} into ${config.backbone}${report.absent ? ` (not in the file, unused: ${report.absent.join(', ')})` : ''}`);
    }
    const source = new DetectionBatchSource(set.records, {
      batchSize: t.batchSize, seed: t.seed, flip: t.flip, prefetch: 2,
      mapper: { minSize: config.input.minSize, maxSize: config.input.maxSize, norm: PIXEL_NORMS[config.input.norm], degenerate: 'drop' },
    });
    const logFile = path.join(out, 'log.jsonl');
    const startStep = resumeFrom?.step ?? 0;
    // A resumed run drops rows logged after its checkpoint by the run that was stopped.
    const log = new MetricsLog(logFile, resumeFrom ? startStep : undefined);
    const progress = new TrainingProgress({
      total: t.iterations, start: startStep, quiet: o.progress === false, label: o.label,
      timeLimitMs: o.minutes !== undefined ? o.minutes * 60_000 : undefined,
    });
    positiveInt(o.workers, '--workers');
    // started inside the try below, so that its finally always stops the threads
    let parallel: DataParallel<DetectionBatch> | undefined;
    const trainer = new Trainer<DetectionBatch>({
      model,
      task: detectionTask(model),
      ...((o.workers ?? 1) > 1 ? { gradients: (b: DetectionBatch, s: number) => parallel!.gradients(b, s) } : {}),
      data: source,
      schedule: stepLr(t.lr, t.steps),
      sgd: { momentum: t.momentum, weightDecay: t.weightDecay },
      iterations: t.iterations,
      timeLimitMs: o.minutes !== undefined ? o.minutes * 60_000 : undefined,
      logEvery: o.logEvery ?? 20,
      checkpoint: { path: ckptFile, every: o.checkpointEvery ?? 500, config },
      rngs: { detector: model.rng },
      onStep: (info) => {
        progress.step(info);
        o.onStep?.(info);
      },
      onLog: (row) => {
        log.write(row);
        progress.log(row);
        o.onLog?.(row);
      },
    });
    try {
      if (resumeFrom) {
        trainer.restore(resumeFrom);
        o.onInfo?.(`resumed from ${ckptFile} at step ${trainer.step}`);
      }
    } finally {
      if (resumeFrom) disposeCheckpoint(resumeFrom);
    }
    const t0 = Date.now();
    let step = trainer.step;
    try {
      if ((o.workers ?? 1) > 1 && step < t.iterations) {
        parallel = await DataParallel.start({
          model, task: detectionTask(model), replica: { module: new URL('./replica.ts', import.meta.url).href, args: { spec: config } },
          split: splitDetectionBatch, replicas: o.workers!, rngs: { detector: model.rng },
        });
      }
      if (step < t.iterations) {
        step = await trainer.run().catch((err: unknown) => {
          if (err instanceof DataParallelError) throw new UserError(`${err.message} (at step ${trainer.step}; the last checkpoint, if any, is ${ckptFile})`);
          throw err;
        });
      }
      else o.onInfo?.(`already at step ${step} of ${t.iterations}: nothing to do`);
      if (!fs.existsSync(ckptFile) || step === startStep) trainer.saveCheckpoint(ckptFile);
    } finally {
      await parallel?.close();
      progress.stop();
      log.close();
      trainer.dispose();
    }
    const seconds = (Date.now() - t0) / 1000;
    const plotFile = path.join(out, 'losses.png');
    await writeLossPlot(readMetricsLog(logFile), `Faster R-CNN ${config.backbone}: training losses`, plotFile);
    const images = (step - startStep) * t.batchSize;
    return { checkpoint: ckptFile, step, stepsThisRun: step - startStep, seconds, imagesPerSecond: seconds > 0 ? images / seconds : 0, config, set, logFile, plotFile };
  } finally {
    model.dispose();
  }
}
