/**
 * Training a Faster R-CNN on a detection set with the shared trainer (src/train/trainer.ts):
 * the detection task (the four losses of `FasterRCNN.losses`), the aspect-grouped prefetching
 * batch source, the step schedule, checkpoints that carry the detector spec (./model.ts), and
 * exact resume. Used by `resdet train-detector`, `compare-backbones` and `demo`.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { chooseVocSplit, DetectionBatchSource, loadDetectionSet, packImages, PIXEL_NORMS, trainingObjects, type DetectionBatch, type DetectionSet, type PixelNormName } from '../../datasets/detection/index.ts';
import type { FasterRCNN } from '../../detectors/index.ts';
import { UserError } from '../../src/errors.ts';
import { stepLr } from '../../src/train/schedule.ts';
import { disposeCheckpoint, loadCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { removeStaleTempFiles } from '../../src/io/atomic.ts';
import { checkImageHeaders } from '../../src/io/image-headers.ts';
import { LOCK_FILE, lockFolder } from '../../src/io/lock.ts';
import { MetricsLog, readMetricsLog } from '../../src/train/metrics-log.ts';
import { TrainingProgress } from '../../src/train/progress.ts';
import { Trainer, type LogRow, type StepInfo, type TrainTask } from '../../src/train/trainer.ts';
import { importWeights } from '../../src/weights/import.ts';
import { DataParallel, DataParallelError } from '../../src/parallel/data-parallel.ts';
import { shardSizes } from '../../src/parallel/shards.ts';
import { siblingModule } from '../../src/parallel/module-url.ts';
import { writeLossPlot } from './loss-plot.ts';
import { buildDetector, DETECTOR_CHECKPOINT_KIND, detectorSpecOf, type DetectorSpec } from './model.ts';
import { mergeDetector, RECIPES, type Recipe, type RecipeName } from './recipes.ts';

/** The training settings stored in the checkpoint beside the spec (resume reuses them). */
export interface TrainSettings extends Pick<Recipe, 'batchSize' | 'lr' | 'steps' | 'iterations' | 'momentum' | 'weightDecay' | 'flip'> {
  preset: RecipeName;
  data: string;
  format: 'voc' | 'coco';
  split: string;
  seed: number;
  /** pretrained backbone weights the run started from */
  weights?: string;
  /** a frozen-BN recipe trained from random weights on request (`--from-scratch`) */
  fromScratch?: boolean;
  /** images of the split when the run started, checked on resume (the data may move, not change) */
  images?: number;
}

/** A detector checkpoint's whole config. */
export type DetectorRunConfig = DetectorSpec & { train: TrainSettings };

/** Options of {@link trainDetector}; unset fields come from the preset. */
export interface TrainDetectorOptions {
  /** dataset folder(s); a new run needs it, `resume` takes the checkpoint's (a folder given here replaces it: the data may have moved) */
  data?: string;
  /** annotation format; a new run needs it, `resume` takes the checkpoint's */
  format?: 'voc' | 'coco';
  preset?: RecipeName;
  backbone?: string;
  split?: string;
  /** override the class list (VOC); default from the data */
  classes?: string[];
  weights?: string;
  /**
   * train a recipe that fine-tunes under frozen BN (voc, coco) from random weights: without it
   * such a run needs `weights`. From scratch, BN and every stage learn (frozen statistics of
   * random weights mean nothing).
   */
  fromScratch?: boolean;
  /** detector config over the preset's, part by part (e.g. the demo's anchors for its image size); a fresh run only */
  detector?: Recipe['detector'];
  /** output folder; a run holds its lock (src/io/lock.ts) while it trains */
  out: string;
  /** total updates (default: the preset's, or on resume the checkpoint's) */
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
  /** warnings (objects training leaves out); default: `resdet: warning: ...` on stderr */
  onWarning?(line: string): void;
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
      const targets = batch.images.map((m) => ({ boxes: m.boxes, labels: m.labels }));
      const sizes = batch.images.map((m) => ({ height: m.height, width: m.width, scaleX: m.scaleX, scaleY: m.scaleY }));
      const l = model.losses(images, targets, sizes);
      return { loss: l.total, metrics: { rpn_cls: l.rpnCls, rpn_box: l.rpnBox, cls: l.cls, box: l.box }, examples: batch.images.length };
    },
  };
}

function positiveInt(v: number | undefined, flag: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new UserError(`${flag}: expected a positive integer, got ${v}`);
}

/** The metrics log and the loss curves inside `out`. */
const LOG_FILE = 'log.jsonl';
const PLOT_FILE = 'losses.png';

/** The checkpoint path inside `out`. */
export function checkpointPath(out: string): string {
  return path.join(path.resolve(out), 'checkpoint.safetensors');
}

/** The preset of a new run: `--preset`, else voc / coco by format. */
function presetOf(o: TrainDetectorOptions, format: 'voc' | 'coco'): RecipeName {
  return o.preset ?? (format === 'coco' ? 'coco' : 'voc');
}

/**
 * The split a new run trains on: `--split`, else the preset's (trainval for voc/coco, train for
 * shapes/tiny, which keep make-shapes' held-out images out), falling back to the other of
 * trainval/train when a VOC folder has only that one (COCO: train).
 */
export function trainSplitOf(o: Pick<TrainDetectorOptions, 'split' | 'preset'>, data: string, format: 'voc' | 'coco'): string {
  if (o.split !== undefined) return o.split;
  const preferred = RECIPES[o.preset ?? (format === 'coco' ? 'coco' : 'voc')].trainSplit[format];
  return format === 'voc' ? chooseVocSplit(data, [...new Set([preferred, 'trainval', 'train'])]) : preferred;
}

/** Builds the run config from flags over the preset (a fresh run). */
function freshConfig(o: TrainDetectorOptions, set: DetectionSet, data: string, format: 'voc' | 'coco', split: string): DetectorRunConfig {
  const preset = presetOf(o, format);
  const r: Recipe = RECIPES[preset];
  const seed = o.seed ?? 0;
  return {
    kind: DETECTOR_CHECKPOINT_KIND,
    backbone: o.backbone ?? r.backbone,
    classes: [...set.classes],
    // from scratch, BN learns and nothing is frozen (as the shapes recipe)
    detector: { ...mergeDetector(r.detector, o.detector), ...(o.fromScratch ? { freezeBackbone: false } : {}), seed },
    input: { minSize: o.minSize ?? r.minSize, maxSize: o.maxSize ?? r.maxSize, norm: o.norm ?? r.norm },
    train: {
      preset, data, format, split,
      batchSize: o.batchSize ?? r.batchSize, lr: o.lr ?? r.lr, steps: o.steps ?? [...r.steps],
      iterations: o.iterations ?? r.iterations, momentum: r.momentum, weightDecay: r.weightDecay, flip: r.flip, seed,
      ...(o.weights ? { weights: path.resolve(o.weights) } : {}),
      ...(o.fromScratch ? { fromScratch: true } : {}),
    },
  };
}

/**
 * The config of a resumed run: the checkpoint's, with a new budget (`iterations`) or data
 * folder; every other option `o` sets must agree with the checkpoint.
 * @throws UserError `<checkpoint>: config.<field>: ...` for an option that contradicts it
 */
export function resumedDetectorConfig(prev: DetectorRunConfig, o: TrainDetectorOptions, ckptFile: string): DetectorRunConfig {
  const t = prev.train;
  const checks: Array<[string, string, unknown, unknown]> = [
    ['train.format', '--format', t.format, o.format],
    ['train.preset', '--preset', t.preset, o.preset],
    ['backbone', '--backbone', prev.backbone, o.backbone],
    ['train.split', '--split', t.split, o.split],
    ['classes', '--classes', prev.classes, o.classes],
    ['train.weights', '--weights', t.weights, o.weights === undefined ? undefined : path.resolve(o.weights)],
    ['train.seed', '--seed', t.seed, o.seed],
    ['input.minSize', '--min-size', prev.input.minSize, o.minSize],
    ['input.maxSize', '--max-size', prev.input.maxSize, o.maxSize],
    ['input.norm', '--norm', prev.input.norm, o.norm],
    ['train.batchSize', '--batch-size', t.batchSize, o.batchSize],
    ['train.lr', '--lr', t.lr, o.lr],
    ['train.steps', '--steps', t.steps, o.steps],
  ];
  for (const [field, flag, have, given] of checks) {
    if (given !== undefined && JSON.stringify(given) !== JSON.stringify(have)) {
      throw new UserError(`${ckptFile}: config.${field}: the run being resumed has ${JSON.stringify(have ?? null)}, ${flag} gives ${JSON.stringify(given)}; leave ${flag} out to continue the run (on --resume only --iterations, --minutes, --data, --workers and --checkpoint-every may change)`);
    }
  }
  const data = o.data === undefined ? t.data : o.data.split(',').filter(Boolean).map((d) => path.resolve(d)).join(',');
  return { ...prev, train: { ...t, data, iterations: o.iterations ?? t.iterations } };
}

/**
 * Trains (or, with `resume`, continues training) a detector; see the module comment.
 * Budget: `iterations` in total (default the preset's), and/or `minutes` of wall time in this
 * process, after which a checkpoint is written that `resume` continues from.
 */
export async function trainDetector(o: TrainDetectorOptions): Promise<TrainDetectorResult> {
  positiveInt(o.iterations, '--iterations');
  positiveInt(o.batchSize, '--batch-size');
  positiveInt(o.workers, '--workers');
  if (o.minutes !== undefined && !(o.minutes > 0)) throw new UserError(`--minutes: expected a positive number, got ${o.minutes}`);
  if (o.preset !== undefined && !(o.preset in RECIPES)) throw new UserError(`--preset: expected one of ${Object.keys(RECIPES).join(', ')}, got ${JSON.stringify(o.preset)}`);
  if (o.norm !== undefined && !(o.norm in PIXEL_NORMS)) throw new UserError(`--norm: expected one of ${Object.keys(PIXEL_NORMS).join(', ')}, got ${JSON.stringify(o.norm)}`);
  if (o.weights !== undefined && o.fromScratch) throw new UserError('--from-scratch: expected no --weights (from scratch means random initial weights), got both');
  const out = path.resolve(o.out);
  const lock = lockFolder(out);
  try {
    removeStaleTempFiles(out, [path.basename(checkpointPath(out)), LOG_FILE, PLOT_FILE, LOCK_FILE]);
    return await trainLocked(o, out);
  } finally {
    lock.release();
  }
}

async function trainLocked(o: TrainDetectorOptions, out: string): Promise<TrainDetectorResult> {
  const ckptFile = checkpointPath(out);
  let config: DetectorRunConfig;
  let resumeFrom: ReturnType<typeof loadCheckpoint> | undefined;
  if (o.resume) {
    if (!fs.existsSync(ckptFile)) throw new UserError(`${ckptFile}: --resume: no checkpoint to resume from (train without --resume first)`);
    resumeFrom = loadCheckpoint(ckptFile);
    try {
      const prev = resumeFrom.config as DetectorRunConfig;
      detectorSpecOf(prev, ckptFile);
      // The run continues with its own settings; only the budget (and the data's place) may change.
      config = resumedDetectorConfig(prev, o, ckptFile);
    } catch (err) {
      disposeCheckpoint(resumeFrom);
      throw err;
    }
  } else {
    if (fs.existsSync(ckptFile)) throw new UserError(`${ckptFile}: a checkpoint is already there; pass --resume to continue it or choose another --out`);
    if (o.data === undefined) throw new UserError('--data: required for a new run (--resume takes it from the checkpoint)');
    if (o.format === undefined) throw new UserError('--format: required for a new run (--resume takes it from the checkpoint)');
    const preset = presetOf(o, o.format);
    const recipe: Recipe = RECIPES[preset];
    if (!o.weights && !o.fromScratch && recipe.detector.freezeBackbone !== false) {
      throw new UserError(`--weights: preset ${preset} fine-tunes ${o.backbone ?? recipe.backbone} from ImageNet weights under frozen BN (the paper's recipe); from random weights it diverges. Pass --weights FILE, or --from-scratch to train from random weights with BN learning`);
    }
    const data = o.data.split(',').filter(Boolean).map((d) => path.resolve(d)).join(',');
    const split = trainSplitOf(o, data, o.format);
    const set0 = loadDetectionSet({ data, format: o.format, split, classes: o.classes });
    config = freshConfig(o, set0, data, o.format, split);
  }
  const held = { ckpt: resumeFrom };
  try {
    return await trainWith(o, out, ckptFile, config, held);
  } finally {
    if (held.ckpt) disposeCheckpoint(held.ckpt);
  }
}

/** Objects of `set` that training leaves out as degenerate after clipping (outside their image, or thinner than a pixel). */
function droppedObjects(set: DetectionSet): { objects: number; images: number; first?: string } {
  let objects = 0;
  let images = 0;
  let first: string | undefined;
  for (const r of set.records) {
    const d = trainingObjects(r).dropped;
    if (d === 0) continue;
    objects += d;
    images += 1;
    first ??= `${r.annotationFile} (image ${r.id})`;
  }
  return { objects, images, first };
}

/**
 * The run once its settings are known. `held.ckpt` is the checkpoint it resumes: freed here as
 * soon as the trainer has restored it (else by the caller).
 */
async function trainWith(o: TrainDetectorOptions, out: string, ckptFile: string, config: DetectorRunConfig, held: { ckpt?: Checkpoint }): Promise<TrainDetectorResult> {
  const t = config.train;
  const resumeFrom = held.ckpt;
  const set = loadDetectionSet({ data: t.data, format: t.format, split: t.split, classes: config.classes });
  if (set.records.length === 0) throw new UserError(`${t.data}: --split ${t.split}: no images to train on`);
  if (t.images !== undefined && t.images !== set.records.length) {
    throw new UserError(`${t.data}: --data: expected the data the run being resumed trained on (${t.images} images in ${t.split}), got ${set.records.length}`);
  }
  t.images = set.records.length;
  const dropped = droppedObjects(set);
  if (dropped.objects > 0) {
    const warn = o.onWarning ?? ((line: string) => process.stderr.write(`resdet: warning: ${line}\n`));
    warn(`${dropped.objects} objects in ${dropped.images} images lie outside their image or are under 1 pixel wide or high after clipping to it; training leaves them out (first: ${dropped.first})`);
  }
  // Every image's header (format, size) before the first step, not when its batch comes up.
  await checkImageHeaders(set.records.map((r) => ({ file: r.imagePath, expected: { width: r.width, height: r.height, annotationFile: r.annotationFile } })));

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
    const logFile = path.join(out, LOG_FILE);
    const startStep = resumeFrom?.step ?? 0;
    // A resumed run drops rows logged after its checkpoint by the run that was stopped.
    const log = new MetricsLog(logFile, resumeFrom ? startStep : undefined);
    const progress = new TrainingProgress({
      total: t.iterations, start: startStep, quiet: o.progress === false, label: o.label,
      timeLimitMs: o.minutes !== undefined ? o.minutes * 60_000 : undefined,
    });
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
    if (resumeFrom) {
      held.ckpt = undefined;
      try {
        trainer.restore(resumeFrom);
      } finally {
        disposeCheckpoint(resumeFrom);
      }
      o.onInfo?.(`resumed from ${ckptFile} at step ${trainer.step}`);
    }
    const t0 = Date.now();
    let step = trainer.step;
    try {
      if ((o.workers ?? 1) > 1 && step < t.iterations) {
        parallel = await DataParallel.start({
          model, task: detectionTask(model), replica: { module: siblingModule(import.meta.url, 'replica'), args: { spec: config } },
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
    const plotFile = path.join(out, PLOT_FILE);
    await writeLossPlot(readMetricsLog(logFile), `Faster R-CNN ${config.backbone}: training losses`, plotFile);
    const images = (step - startStep) * t.batchSize;
    return { checkpoint: ckptFile, step, stepsThisRun: step - startStep, seconds, imagesPerSecond: seconds > 0 ? images / seconds : 0, config, set, logFile, plotFile };
  } finally {
    model.dispose();
  }
}
