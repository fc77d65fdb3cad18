/**
 * One classification training run, end to end: data folder -> recipe mappers -> backbone ->
 * Trainer (SGD, schedule, checkpoints, exact resume) -> metrics log, progress, error curves.
 * `resdet train-classifier` and `resdet experiment degradation` both call `trainClassifier`.
 *
 * Output folder: `checkpoint.safetensors` (see src/train/checkpoint.ts), `metrics.jsonl`
 * (src/train/metrics-log.ts) and `curves.png` (training error thin, test/val error bold).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createBackbone } from '../../backbones/index.ts';
import { setMappers, openClassificationData, holdOut, type ClassificationSet } from '../../datasets/classification/index.ts';
import { ShuffledBatches, orderedBatches } from '../../datasets/classification/batches.ts';
import { initBackend } from '../../src/backend/index.ts';
import { startClassificationParallel } from './parallel.ts';
import { DataParallelError, type DataParallel } from '../../src/parallel/data-parallel.ts';
import { UserError } from '../../src/errors.ts';
import { removeStaleTempFiles } from '../../src/io/atomic.ts';
import { checkImageHeaders } from '../../src/io/image-headers.ts';
import { LOCK_FILE, lockFolder } from '../../src/io/lock.ts';
import { disposeCheckpoint, loadCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { classificationErrors, classificationTask, type ClassificationBatch } from '../../src/train/classification.ts';
import { MetricsLog, readMetricsLog } from '../../src/train/metrics-log.ts';
import { CURVE_COLORS, curvesFromLog, errorCurvesSvg, writeSvgPng } from '../../src/train/plot.ts';
import { TrainingProgress } from '../../src/train/progress.ts';
import { ErrorWarmup } from '../../src/train/error-warmup.ts';
import { PlateauLr, stepLr, type LrSchedule } from '../../src/train/schedule.ts';
import { Trainer, TrainingDivergedError } from '../../src/train/trainer.ts';
import { RECIPES, type ClassifierRecipe, type RecipeName } from './recipes/index.ts';

export interface ClassifierRunOptions {
  /** backbone name, e.g. 'resnet20'; a new run needs it, `resume` takes the checkpoint's */
  model?: string;
  /**
   * data folder (see datasets/classification/index.ts for layouts); a new run needs it, `resume`
   * takes the checkpoint's (a folder given here replaces it: the data may have moved)
   */
  data?: string;
  /** the recipe's name (`--preset`), stored in the checkpoint; default cifar10 */
  preset?: string;
  /** the whole recipe of a new run (default: the preset's with `overrides` over it) */
  recipe?: ClassifierRecipe;
  /**
   * recipe fields set one by one (command-line flags); on `resume` only those of
   * {@link RESUME_OVERRIDABLE} may differ from the checkpoint's, any other is refused
   */
  overrides?: Partial<ClassifierRecipe>;
  /** output folder; a run holds its lock (src/io/lock.ts) while it trains */
  out: string;
  /** stop after this many updates in total (default: the recipe's, or on resume the checkpoint's) */
  iterations?: number;
  /** stop after this many minutes of training in this process */
  minutes?: number;
  /** continue from out/checkpoint.safetensors with its settings */
  resume?: boolean;
  /** default 0, or on resume the checkpoint's (a different one is refused) */
  seed?: number;
  quiet?: boolean;
  /** prefix of progress lines (the experiment names its runs) */
  label?: string;
  /** train on a seeded random subset of this many images (quick runs, tests) */
  trainImages?: number;
  /**
   * threads computing each step, data parallel (src/parallel/); default 1 (this thread only),
   * or on --resume the checkpoint's. A resumed run repeats the straight one exactly only with
   * the same count: BN normalises each thread's shard with its own statistics.
   */
  workers?: number;
}

/**
 * Recipe fields a resumed run may change: they decide when to evaluate, log and save, never
 * which updates are made.
 */
export const RESUME_OVERRIDABLE: ReadonlyArray<keyof ClassifierRecipe> = ['evalEvery', 'evalImages', 'checkpointEvery', 'logEvery'];

/** The flag of each option, for messages. */
const FLAGS: Record<string, string> = {
  model: '--model', seed: '--seed', trainImages: '--train-images', preset: '--preset', batchSize: '--batch-size', lr: '--lr',
  evalEvery: '--eval-every', evalImages: '--eval-images', checkpointEvery: '--checkpoint-every',
};

/** The settings a classifier checkpoint stores (`config`). */
interface ClassifierRunConfig {
  model: string;
  data: string;
  preset?: string;
  recipe: ClassifierRecipe;
  seed: number;
  iterations: number;
  trainImages: number | null;
  workers: number;
  /** what the data folder held when the run started, checked on resume (the folder may move, not change) */
  found?: { images: number; classes: number };
}

/** Looks up a recipe by name; the error lists the valid ones. */
export function recipeByName(name: string): ClassifierRecipe {
  if (!Object.prototype.hasOwnProperty.call(RECIPES, name)) throw new UserError(`--preset: expected one of ${Object.keys(RECIPES).join(', ')}, got ${JSON.stringify(name)}`);
  return RECIPES[name as RecipeName];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The config of a resumed run: the checkpoint's, with what `o` may change; anything else `o`
 * sets must agree with it.
 * @throws UserError `<checkpoint>: config.<field>: ...` for a contradicting option
 */
export function resumedConfig(saved: ClassifierRunConfig, o: ClassifierRunOptions, ckptFile: string): ClassifierRunConfig {
  const refuse = (field: string, flag: string, have: unknown, given: unknown): never => {
    throw new UserError(`${ckptFile}: config.${field}: the run being resumed has ${JSON.stringify(have)}, ${flag} gives ${JSON.stringify(given)}; leave ${flag} out to continue the run (on --resume only --iterations, --minutes, --workers, --data, --eval-every, --eval-images and --checkpoint-every may change)`);
  };
  if (typeof saved?.model !== 'string' || typeof saved.recipe !== 'object' || saved.recipe === null || typeof saved.data !== 'string') {
    throw new UserError(`${ckptFile}: config: expected a classifier run's settings {model, data, recipe, ...}, got ${JSON.stringify(saved).slice(0, 80)}`);
  }
  if (o.model !== undefined && o.model !== saved.model) refuse('model', '--model', saved.model, o.model);
  if (o.seed !== undefined && o.seed !== saved.seed) refuse('seed', '--seed', saved.seed, o.seed);
  if (o.trainImages !== undefined && o.trainImages !== saved.trainImages) refuse('trainImages', '--train-images', saved.trainImages, o.trainImages);
  if (o.preset !== undefined && saved.preset !== undefined && o.preset !== saved.preset) refuse('preset', '--preset', saved.preset, o.preset);
  const recipe: ClassifierRecipe = { ...saved.recipe };
  // a whole recipe (the experiment passes one) and single fields (flags) are checked alike
  for (const fields of [o.recipe ?? {}, o.overrides ?? {}]) {
    for (const [k, v] of Object.entries(fields) as Array<[keyof ClassifierRecipe, unknown]>) {
      if (v === undefined) continue;
      if (RESUME_OVERRIDABLE.includes(k)) (recipe as unknown as Record<string, unknown>)[k] = v;
      else if (!same(v, saved.recipe[k])) refuse(`recipe.${k}`, FLAGS[k] ?? `recipe.${k}`, saved.recipe[k], v);
    }
  }
  return {
    ...saved,
    data: o.data !== undefined ? path.resolve(o.data) : saved.data,
    recipe,
    iterations: o.iterations ?? saved.iterations,
    workers: o.workers ?? (typeof saved.workers === 'number' ? saved.workers : 1),
  };
}

/** What a classifier run wrote and reached. */
export interface ClassifierRunResult {
  checkpoint: string;
  metricsLog: string;
  plot: string;
  step: number;
  /** the last evaluation's metrics */
  final: Record<string, number>;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const METRICS_FILE = 'metrics.jsonl';
export const CURVES_FILE = 'curves.png';

function scheduleOf(recipe: ClassifierRecipe, model: string, log?: (message: string) => void): LrSchedule {
  const main = recipe.schedule.kind === 'steps' ? stepLr(recipe.lr, recipe.schedule.milestones) : new PlateauLr(recipe.lr, { patience: recipe.schedule.patience });
  const w = recipe.warmup;
  return w && w.models.includes(model) ? new ErrorWarmup(main, { lr: w.lr, threshold: w.untilError, window: w.window, warnAfter: w.warnAfter, log }) : main;
}

/**
 * Trains a classifier as configured; see the module comment for the outputs. The run holds the
 * output folder's lock (src/io/lock.ts) from start to end, and first removes temporary files
 * that a killed run left there.
 * @throws UserError when another live run holds the folder, for a new run on a folder with a
 *   checkpoint, and on resume for an option that contradicts the checkpoint's settings
 */
export async function trainClassifier(o: ClassifierRunOptions): Promise<ClassifierRunResult> {
  await initBackend();
  const lock = lockFolder(o.out);
  try {
    removeStaleTempFiles(path.resolve(o.out), [CHECKPOINT_FILE, METRICS_FILE, CURVES_FILE, LOCK_FILE]);
    return await trainLocked(o);
  } finally {
    lock.release();
  }
}

async function trainLocked(o: ClassifierRunOptions): Promise<ClassifierRunResult> {
  if (o.preset !== undefined) recipeByName(o.preset);
  const ckptFile = path.join(o.out, CHECKPOINT_FILE);
  let ckpt: Checkpoint | undefined;
  let config: ClassifierRunConfig;
  if (o.resume) {
    if (!fs.existsSync(ckptFile)) throw new UserError(`${ckptFile}: --resume: expected a checkpoint from an earlier run, got none`);
    ckpt = loadCheckpoint(ckptFile);
    try {
      config = resumedConfig(ckpt.config as ClassifierRunConfig, o, ckptFile);
    } catch (err) {
      disposeCheckpoint(ckpt);
      throw err;
    }
  } else {
    if (fs.existsSync(ckptFile)) throw new UserError(`${ckptFile}: a checkpoint is already there; pass --resume to continue it or choose another --out`);
    if (o.model === undefined) throw new UserError('--model: required for a new run (--resume takes it from the checkpoint)');
    if (o.data === undefined) throw new UserError('--data: required for a new run (--resume takes it from the checkpoint)');
    const recipe = { ...(o.recipe ?? recipeByName(o.preset ?? 'cifar10')), ...Object.fromEntries(Object.entries(o.overrides ?? {}).filter(([, v]) => v !== undefined)) };
    config = {
      model: o.model, data: path.resolve(o.data), ...(o.preset !== undefined ? { preset: o.preset } : {}), recipe, seed: o.seed ?? 0,
      iterations: o.iterations ?? recipe.iterations, trainImages: o.trainImages ?? null, workers: o.workers ?? 1,
    };
  }
  const held = { ckpt };
  try {
    return await trainWith(config, o, ckptFile, held);
  } finally {
    if (held.ckpt) disposeCheckpoint(held.ckpt);
  }
}

/**
 * The run itself, once its settings are known. `held.ckpt` is the checkpoint it resumes: freed
 * here as soon as the trainer has restored it (else by the caller).
 */
async function trainWith(config: ClassifierRunConfig, o: ClassifierRunOptions, ckptFile: string, held: { ckpt?: Checkpoint }): Promise<ClassifierRunResult> {
  const { recipe, iterations, seed } = config;
  const startStep = held.ckpt?.step;
  const data = openClassificationData(config.data);
  if (!data.train) throw new UserError(`${config.data}: expected a training set (train/, data_batch_*.bin or train-images-idx3-ubyte), got none`);
  const found = { images: data.train.records.length, classes: data.train.classes.length };
  if (config.found && !same(config.found, found)) {
    throw new UserError(`${config.data}: --data: expected the data the run being resumed trained on (${config.found.images} training images of ${config.found.classes} classes), got ${found.images} images of ${found.classes} classes`);
  }
  config.found = found;
  let train: ClassificationSet = data.train;
  if (config.trainImages !== null && config.trainImages < train.records.length) {
    train = holdOut(train, train.records.length - config.trainImages, seed).train;
  }
  const evalSets: Array<[string, ClassificationSet]> = [];
  if (recipe.holdout > 0) {
    // at most a tenth of the images (5k of 50k for CIFAR-10; less on a --train-images subset)
    const split = holdOut(train, Math.min(recipe.holdout, Math.floor(train.records.length / 10)), seed);
    train = split.train;
    evalSets.push(['val_error', split.val]);
  }
  if (data.test) evalSets.push(['test_error', data.test]);
  if (recipe.augment === 'imagenet') {
    // Files decoded per use (the ImageNet pipeline): read every header now, so a bad file is
    // named before the first step rather than when it is first drawn, possibly hours in. (The
    // 'cifar' pipeline decodes every image into its cache within the first epoch anyway.)
    const files = [train, ...evalSets.map(([, set]) => set)].flatMap((set) => set.records.flatMap((r) => (r.image.kind === 'file' ? [{ file: r.image.path }] : [])));
    await checkImageHeaders(files);
  }

  const backboneOptions = { numClasses: train.classes.length, seed };
  const model = createBackbone(config.model, backboneOptions);
  const schedule = scheduleOf(recipe, config.model, o.quiet ? undefined : (m) => process.stderr.write(`${o.label ? `${o.label} ` : ''}${m}\n`));
  const mappers = setMappers(train, recipe.augment, recipe.normalisation);
  const batches = new ShuffledBatches(train, mappers.train, { batchSize: recipe.batchSize, seed, sampleShape: mappers.sampleShape });
  const evalMappers = evalSets.map(([name, set]) => [name, set, setMappers(set, recipe.augment, recipe.normalisation)] as const);
  const monitor = evalSets.length ? evalSets[0][0] : undefined;
  let final: Record<string, number> = {};
  const timeLimitMs = o.minutes !== undefined ? o.minutes * 60_000 : undefined;
  const log = new MetricsLog(path.join(o.out, METRICS_FILE), startStep);
  const progress = new TrainingProgress({ total: iterations, start: startStep ?? 0, timeLimitMs, quiet: o.quiet, label: o.label });

  // started inside the try below, so that the finally always stops its threads
  let parallel: DataParallel<ClassificationBatch> | undefined;
  const trainer = new Trainer({
    model,
    task: classificationTask(model),
    ...(config.workers > 1 ? { gradients: (batch: ClassificationBatch, step: number) => parallel!.gradients(batch, step) } : {}),
    data: batches,
    schedule,
    sgd: { momentum: recipe.momentum, weightDecay: recipe.weightDecay },
    iterations,
    timeLimitMs,
    logEvery: recipe.logEvery,
    checkpoint: { path: ckptFile, every: recipe.checkpointEvery, config },
    onStep: (info) => progress.step(info),
    onLog: (row) => {
      log.write(row);
      progress.log(row);
    },
    evaluation: evalSets.length
      ? {
          every: recipe.evalEvery,
          monitor: recipe.schedule.kind === 'plateau' ? monitor : undefined,
          async run() {
            const result: Record<string, number> = {};
            for (const [name, set, m] of evalMappers) {
              const r = await classificationErrors(model, orderedBatches(set, m.eval, m.sampleShape, 100, recipe.evalImages));
              result[name] = r.top1Errors / r.images;
            }
            final = result;
            return result;
          },
        }
      : undefined,
  });

  try {
    if (held.ckpt) {
      const c = held.ckpt;
      held.ckpt = undefined;
      try {
        trainer.restore(c);
      } finally {
        disposeCheckpoint(c);
      }
    }
    const run = async (): Promise<number> => {
      if (config.workers > 1) parallel = await startClassificationParallel(model, config.model, backboneOptions, config.workers);
      return trainer.run();
    };
    await run().catch((err: unknown) => {
      if (err instanceof TrainingDivergedError) throw new UserError(`${err.message}; try a lower --lr, or --resume from ${ckptFile}`);
      if (err instanceof DataParallelError) throw new UserError(`${err.message} (at step ${trainer.step}; the last checkpoint, if any, is ${ckptFile})`);
      throw err;
    });
  } finally {
    await parallel?.close();
    progress.stop();
    log.close();
    trainer.dispose();
    model.dispose();
  }
  const plot = path.join(o.out, CURVES_FILE);
  const rows = readMetricsLog(log.file);
  const metrics = [...new Set(rows.flatMap((r) => Object.keys(r)).filter((k) => k.endsWith('_error')))];
  const curves = [
    { ...curvesFromLog(rows, 'train error', CURVE_COLORS[0])[0] },
    ...metrics.map((m, i) => curvesFromLog(rows, m.replace('_', ' '), CURVE_COLORS[(i + 1) % CURVE_COLORS.length], m)[1]),
  ];
  await writeSvgPng(errorCurvesSvg([{ title: config.model, curves }]), plot);
  return { checkpoint: ckptFile, metricsLog: log.file, plot, step: trainer.step, final };
}
