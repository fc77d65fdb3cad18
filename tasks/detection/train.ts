/**
 * Training a Faster R-CNN on a detection set with the shared trainer (src/train/trainer.ts):
 * the detection task (the four losses of `FasterRCNN.losses`), the aspect-grouped prefetching
 * batch source, the step schedule, checkpoints that carry the detector spec (./model.ts), and
 * exact resume. The run's skeleton (folder lock, resume, log, progress, threads) is tasks/run.ts,
 * shared with the classification task. Used by `resdet train-detector`, `compare-backbones` and
 * `demo`.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { chooseVocSplit, DetectionBatchSource, loadDetectionSet, PIXEL_NORMS, trainingObjects, type DetectionBatch, type DetectionSet, type PixelNormName } from '../../datasets/detection/index.ts';
import type { FasterRCNN } from '../../detectors/index.ts';
import { OptionError } from '../../src/errors.ts';
import { stepLr } from '../../src/train/schedule.ts';
import { checkImageHeaders } from '../../src/io/image-headers.ts';
import type { TrainTask } from '../../src/train/trainer.ts';
import { importWeights } from '../../src/weights/import.ts';
import { DataParallel } from '../../src/parallel/data-parallel.ts';
import { shardSizes } from '../../src/parallel/shards.ts';
import { siblingModule } from '../../src/parallel/module-url.ts';
import { packImages } from '../../src/image/index.ts';
import { runTraining, type RunOptions, type RunParts } from '../run.ts';
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
  /** a frozen-BN recipe trained from random weights on request (`fromScratch`) */
  fromScratch?: boolean;
  /** images of the split when the run started, checked on resume (the data may move, not change) */
  images?: number;
}

/** A detector checkpoint's whole config. */
export type DetectorRunConfig = DetectorSpec & { train: TrainSettings };

/**
 * Options of {@link trainDetector}; unset fields come from the preset. The common ones (out,
 * iterations, minutes, resume, seed, workers, quiet, label, callbacks) are {@link RunOptions}.
 */
export interface TrainDetectorOptions extends RunOptions {
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

function positiveInt(v: number | undefined, option: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new OptionError((n) => `${n(option)}: expected a positive integer, got ${v}`);
}

/** The metrics log and the loss curves inside `out`. */
const LOG_FILE = 'log.jsonl';
const PLOT_FILE = 'losses.png';

/** The checkpoint path inside `out`. */
export function checkpointPath(out: string): string {
  return path.join(path.resolve(out), 'checkpoint.safetensors');
}

/** The preset of a new run: `preset`, else voc / coco by format. */
function presetOf(o: TrainDetectorOptions, format: 'voc' | 'coco'): RecipeName {
  return o.preset ?? (format === 'coco' ? 'coco' : 'voc');
}

/**
 * The split a new run trains on: `split`, else the preset's (trainval for voc/coco, train for
 * shapes/tiny, which keep make-shapes' held-out images out), falling back to the other of
 * trainval/train when a VOC folder has only that one (COCO: train).
 */
export function trainSplitOf(o: Pick<TrainDetectorOptions, 'split' | 'preset'>, data: string, format: 'voc' | 'coco'): string {
  if (o.split !== undefined) return o.split;
  const preferred = RECIPES[o.preset ?? (format === 'coco' ? 'coco' : 'voc')].trainSplit[format];
  return format === 'voc' ? chooseVocSplit(data, [...new Set([preferred, 'trainval', 'train'])]) : preferred;
}

/** Builds the run config from the options over the preset (a fresh run). */
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
 * @throws OptionError `<checkpoint>: config.<field>: ...` for an option that contradicts it, naming it
 */
export function resumedDetectorConfig(prev: DetectorRunConfig, o: TrainDetectorOptions, ckptFile: string): DetectorRunConfig {
  const t = prev.train;
  const checks: Array<[string, keyof TrainDetectorOptions, unknown, unknown]> = [
    ['train.format', 'format', t.format, o.format],
    ['train.preset', 'preset', t.preset, o.preset],
    ['backbone', 'backbone', prev.backbone, o.backbone],
    ['train.split', 'split', t.split, o.split],
    ['classes', 'classes', prev.classes, o.classes],
    ['train.weights', 'weights', t.weights, o.weights === undefined ? undefined : path.resolve(o.weights)],
    ['train.seed', 'seed', t.seed, o.seed],
    ['input.minSize', 'minSize', prev.input.minSize, o.minSize],
    ['input.maxSize', 'maxSize', prev.input.maxSize, o.maxSize],
    ['input.norm', 'norm', prev.input.norm, o.norm],
    ['train.batchSize', 'batchSize', t.batchSize, o.batchSize],
    ['train.lr', 'lr', t.lr, o.lr],
    ['train.steps', 'steps', t.steps, o.steps],
  ];
  for (const [field, option, have, given] of checks) {
    if (given !== undefined && JSON.stringify(given) !== JSON.stringify(have)) {
      throw new OptionError((n) => `${ckptFile}: config.${field}: the run being resumed has ${JSON.stringify(have ?? null)}, ${n(option)} gives ${JSON.stringify(given)}; leave ${n(option)} out to continue the run (on ${n('resume')} only ${n('iterations')}, ${n('minutes')}, ${n('data')}, ${n('workers')} and ${n('checkpointEvery')} may change)`);
    }
  }
  const data = o.data === undefined ? t.data : o.data.split(',').filter(Boolean).map((d) => path.resolve(d)).join(',');
  return { ...prev, train: { ...t, data, iterations: o.iterations ?? t.iterations } };
}

/**
 * Trains (or, with `resume`, continues training) a detector; see the module comment.
 * Budget: `iterations` in total (default the preset's), and/or `minutes` of wall time in this
 * process, after which a checkpoint is written that `resume` continues from.
 * @throws UserError for bad options (an OptionError naming the option's field), a folder another
 *   run holds, a new run on a folder with a checkpoint, and bad data (naming the file)
 */
export async function trainDetector(o: TrainDetectorOptions): Promise<TrainDetectorResult> {
  positiveInt(o.iterations, 'iterations');
  positiveInt(o.batchSize, 'batchSize');
  positiveInt(o.workers, 'workers');
  if (o.minutes !== undefined && !(o.minutes > 0)) throw new OptionError((n) => `${n('minutes')}: expected a positive number, got ${o.minutes}`);
  if (o.preset !== undefined && !(o.preset in RECIPES)) throw new OptionError((n) => `${n('preset')}: expected one of ${Object.keys(RECIPES).join(', ')}, got ${JSON.stringify(o.preset)}`);
  if (o.norm !== undefined && !(o.norm in PIXEL_NORMS)) throw new OptionError((n) => `${n('norm')}: expected one of ${Object.keys(PIXEL_NORMS).join(', ')}, got ${JSON.stringify(o.norm)}`);
  if (o.weights !== undefined && o.fromScratch) throw new OptionError((n) => `${n('fromScratch')}: expected no ${n('weights')} (from scratch means random initial weights), got both`);
  const out = path.resolve(o.out);
  const checkpoint = checkpointPath(out);
  let set: DetectionSet | undefined;
  const r = await runTraining<DetectorRunConfig, DetectionBatch>({
    options: o,
    files: { checkpoint, log: path.join(out, LOG_FILE), plot: path.join(out, PLOT_FILE) },
    iterations: (config) => config.train.iterations,
    fresh: () => freshRun(o),
    resumed: (saved) => {
      const prev = saved as DetectorRunConfig;
      detectorSpecOf(prev, checkpoint);
      // The run continues with its own settings; only the budget (and the data's place) may change.
      return resumedDetectorConfig(prev, o, checkpoint);
    },
    prepare: async (config, resuming) => {
      const parts = await detectorParts(config, o, resuming);
      set = parts.set;
      return parts;
    },
  });
  const { config, step, startStep, seconds } = r;
  const images = (step - startStep) * config.train.batchSize;
  return {
    checkpoint, step, stepsThisRun: step - startStep, seconds, imagesPerSecond: seconds > 0 ? images / seconds : 0,
    config, set: set!, logFile: r.logFile, plotFile: r.plotFile,
  };
}

/** A new run's config: the options over the preset, the classes from the data. */
function freshRun(o: TrainDetectorOptions): DetectorRunConfig {
  if (o.data === undefined) throw new OptionError((n) => `${n('data')}: required for a new run (${n('resume')} takes it from the checkpoint)`);
  if (o.format === undefined) throw new OptionError((n) => `${n('format')}: required for a new run (${n('resume')} takes it from the checkpoint)`);
  const preset = presetOf(o, o.format);
  const recipe: Recipe = RECIPES[preset];
  if (!o.weights && !o.fromScratch && recipe.detector.freezeBackbone !== false) {
    throw new OptionError((n) => `${n('weights')}: preset ${preset} fine-tunes ${o.backbone ?? recipe.backbone} from ImageNet weights under frozen BN (the paper's recipe); from random weights it diverges. Pass ${n('weights')} FILE, or ${n('fromScratch')} to train from random weights with BN learning`);
  }
  const data = o.data.split(',').filter(Boolean).map((d) => path.resolve(d)).join(',');
  const split = trainSplitOf(o, data, o.format);
  const set0 = loadDetectionSet({ data, format: o.format, split, classes: o.classes });
  return freshConfig(o, set0, data, o.format, split);
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
 * The trainer's parts of a run once its settings are known: the data (checked against what a
 * resumed run trained on, every image header read), the detector (with `weights` imported into
 * a new run's backbone), the aspect-grouped batches and the step schedule.
 * @param resuming a checkpoint's weights replace every initial one next
 */
async function detectorParts(config: DetectorRunConfig, o: TrainDetectorOptions, resuming: boolean): Promise<RunParts<DetectionBatch> & { set: DetectionSet }> {
  const t = config.train;
  const set = loadDetectionSet({ data: t.data, format: t.format, split: t.split, classes: config.classes });
  if (set.records.length === 0) throw new OptionError((n) => `${t.data}: ${n('split')} ${t.split}: no images to train on`);
  if (t.images !== undefined && t.images !== set.records.length) {
    const had = t.images;
    throw new OptionError((n) => `${t.data}: ${n('data')}: expected the data the run being resumed trained on (${had} images in ${t.split}), got ${set.records.length}`);
  }
  t.images = set.records.length;
  const dropped = droppedObjects(set);
  if (dropped.objects > 0) {
    const warn = o.onWarning ?? ((line: string) => process.stderr.write(`resdet: warning: ${line}\n`));
    warn(`${dropped.objects} objects in ${dropped.images} images lie outside their image or are under 1 pixel wide or high after clipping to it; training leaves them out (first: ${dropped.first})`);
  }
  // Every image's header (format, size) before the first step, not when its batch comes up.
  await checkImageHeaders(set.records.map((r) => ({ file: r.imagePath, expected: { width: r.width, height: r.height, annotationFile: r.annotationFile } })));

  // A resumed run loads every weight from its checkpoint, `weights` every backbone weight: the
  // backbone's random draws would be thrown away (the RPN and RoI heads are drawn either way).
  const model = buildDetector(config, resuming || t.weights ? 'none' : 'random');
  try {
    if (!resuming && t.weights) {
      // the ImageNet classifier (fc) is unused by the detector: a file without it imports too
      const report = await importWeights(model.backbone, t.weights, { optional: model.backbone.detection?.unused });
      o.onInfo?.(`imported ${report.loaded} ${report.format} tensors from ${t.weights} into ${config.backbone}${report.absent ? ` (not in the file, unused: ${report.absent.join(', ')})` : ''}`);
    }
  } catch (err) {
    model.dispose();
    throw err;
  }
  const workers = o.workers ?? 1;
  return {
    set,
    model,
    task: detectionTask(model),
    data: new DetectionBatchSource(set.records, {
      batchSize: t.batchSize, seed: t.seed, flip: t.flip, prefetch: 2,
      mapper: { minSize: config.input.minSize, maxSize: config.input.maxSize, norm: PIXEL_NORMS[config.input.norm], degenerate: 'drop' },
    }),
    schedule: stepLr(t.lr, t.steps),
    sgd: { momentum: t.momentum, weightDecay: t.weightDecay },
    logEvery: o.logEvery ?? 20,
    checkpointEvery: o.checkpointEvery ?? 500,
    rngs: { detector: model.rng },
    workers,
    startParallel: () => DataParallel.start({
      model, task: detectionTask(model), replica: { module: siblingModule(import.meta.url, 'replica'), args: { spec: config } },
      split: splitDetectionBatch, replicas: workers, rngs: { detector: model.rng },
    }),
    plot: (rows, file) => writeLossPlot(rows, `Faster R-CNN ${config.backbone}: training losses`, file),
    dispose: () => model.dispose(),
  };
}
