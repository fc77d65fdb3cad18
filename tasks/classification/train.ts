/**
 * One classification training run, end to end: data folder -> recipe mappers -> backbone ->
 * Trainer (SGD, schedule, checkpoints, exact resume) -> metrics log, progress, error curves.
 * `resdet train-classifier` and `resdet experiment degradation` both call `trainClassifier`; the
 * run's skeleton (folder lock, resume, log, progress, threads) is tasks/run.ts, shared with the
 * detection task.
 *
 * Output folder: `checkpoint.safetensors` (see src/train/checkpoint.ts), `metrics.jsonl`
 * (src/train/metrics-log.ts) and `curves.png` (training error thin, test/val error bold).
 */
import path from 'node:path';
import { createBackbone } from '../../backbones/index.ts';
import { setMappers, openClassificationData, holdOut, type ClassificationSet } from '../../datasets/classification/index.ts';
import { ShuffledBatches, orderedBatches } from '../../datasets/classification/batches.ts';
import { startClassificationParallel } from './parallel.ts';
import { OptionError, UserError } from '../../src/errors.ts';
import { checkImageHeaders } from '../../src/io/image-headers.ts';
import { classificationErrors, classificationTask, type ClassificationBatch } from '../../src/train/classification.ts';
import { CURVE_COLORS, curvesFromLog, errorCurvesSvg, writeSvgPng } from '../../src/train/plot.ts';
import { ErrorWarmup } from '../../src/train/error-warmup.ts';
import { PlateauLr, stepLr, type LrSchedule } from '../../src/train/schedule.ts';
import { runTraining, type RunOptions, type RunParts } from '../run.ts';
import { RECIPES, type ClassifierRecipe, type RecipeName } from './recipes/index.ts';

/** Options of {@link trainClassifier}; the common ones (out, iterations, minutes, resume, seed, workers, callbacks) are {@link RunOptions}. */
export interface ClassifierRunOptions extends RunOptions {
  /** backbone name, e.g. 'resnet20'; a new run needs it, `resume` takes the checkpoint's */
  model?: string;
  /**
   * data folder (see datasets/classification/index.ts for layouts); a new run needs it, `resume`
   * takes the checkpoint's (a folder given here replaces it: the data may have moved)
   */
  data?: string;
  /** the recipe's name, stored in the checkpoint; default cifar10 */
  preset?: string;
  /** the whole recipe of a new run (default: the preset's with `overrides` over it) */
  recipe?: ClassifierRecipe;
  /**
   * recipe fields set one by one (command-line flags); on `resume` only those of
   * {@link RESUME_OVERRIDABLE} may differ from the checkpoint's, any other is refused
   */
  overrides?: Partial<ClassifierRecipe>;
  /** train on a seeded random subset of this many images (quick runs, tests) */
  trainImages?: number;
  /**
   * threads computing each step, data parallel (src/parallel/); default 1 (this thread only),
   * or on resume the checkpoint's. A resumed run repeats the straight one exactly only with
   * the same count: BN normalises each thread's shard with its own statistics.
   */
  workers?: number;
}

/**
 * Recipe fields a resumed run may change: they decide when to evaluate, log and save, never
 * which updates are made.
 */
export const RESUME_OVERRIDABLE: ReadonlyArray<keyof ClassifierRecipe> = ['evalEvery', 'evalImages', 'checkpointEvery', 'logEvery'];

/** The options a resumed run may set, for messages: the run's budget, place and threads, and the recipe fields above. */
const RESUMABLE_OPTIONS = ['iterations', 'minutes', 'workers', 'data', 'overrides.evalEvery', 'overrides.evalImages', 'overrides.checkpointEvery'];

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

/**
 * Looks up a recipe by name.
 * @throws OptionError `preset: expected one of cifar10, imagenet, got "mnist"`
 */
export function recipeByName(name: string): ClassifierRecipe {
  if (!Object.prototype.hasOwnProperty.call(RECIPES, name)) throw new OptionError((n) => `${n('preset')}: expected one of ${Object.keys(RECIPES).join(', ')}, got ${JSON.stringify(name)}`);
  return RECIPES[name as RecipeName];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The config of a resumed run: the checkpoint's, with what `o` may change; anything else `o`
 * sets must agree with it.
 * @throws OptionError `<checkpoint>: config.<field>: ...` for a contradicting option, naming it
 */
export function resumedConfig(saved: ClassifierRunConfig, o: ClassifierRunOptions, ckptFile: string): ClassifierRunConfig {
  const refuse = (field: string, option: string, have: unknown, given: unknown): never => {
    throw new OptionError((n) => {
      const may = RESUMABLE_OPTIONS.map(n);
      return `${ckptFile}: config.${field}: the run being resumed has ${JSON.stringify(have)}, ${n(option)} gives ${JSON.stringify(given)}; leave ${n(option)} out to continue the run (on ${n('resume')} only ${may.slice(0, -1).join(', ')} and ${may.at(-1)} may change)`;
    });
  };
  if (typeof saved?.model !== 'string' || typeof saved.recipe !== 'object' || saved.recipe === null || typeof saved.data !== 'string') {
    throw new UserError(`${ckptFile}: config: expected a classifier run's settings {model, data, recipe, ...}, got ${JSON.stringify(saved).slice(0, 80)}`);
  }
  if (o.model !== undefined && o.model !== saved.model) refuse('model', 'model', saved.model, o.model);
  if (o.seed !== undefined && o.seed !== saved.seed) refuse('seed', 'seed', saved.seed, o.seed);
  if (o.trainImages !== undefined && o.trainImages !== saved.trainImages) refuse('trainImages', 'trainImages', saved.trainImages, o.trainImages);
  if (o.preset !== undefined && saved.preset !== undefined && o.preset !== saved.preset) refuse('preset', 'preset', saved.preset, o.preset);
  const recipe: ClassifierRecipe = { ...saved.recipe };
  // a whole recipe (the experiment passes one) and single fields (flags) are checked alike
  for (const [source, fields] of [['recipe', o.recipe ?? {}], ['overrides', o.overrides ?? {}]] as const) {
    for (const [k, v] of Object.entries(fields) as Array<[keyof ClassifierRecipe, unknown]>) {
      if (v === undefined) continue;
      if (RESUME_OVERRIDABLE.includes(k)) (recipe as unknown as Record<string, unknown>)[k] = v;
      else if (!same(v, saved.recipe[k])) refuse(`recipe.${k}`, `${source}.${k}`, saved.recipe[k], v);
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

/** A new run's config from the options over the preset's recipe. */
function freshConfig(o: ClassifierRunOptions): ClassifierRunConfig {
  if (o.model === undefined) throw new OptionError((n) => `${n('model')}: required for a new run (${n('resume')} takes it from the checkpoint)`);
  if (o.data === undefined) throw new OptionError((n) => `${n('data')}: required for a new run (${n('resume')} takes it from the checkpoint)`);
  const recipe = { ...(o.recipe ?? recipeByName(o.preset ?? 'cifar10')), ...Object.fromEntries(Object.entries(o.overrides ?? {}).filter(([, v]) => v !== undefined)) };
  return {
    model: o.model, data: path.resolve(o.data), ...(o.preset !== undefined ? { preset: o.preset } : {}), recipe, seed: o.seed ?? 0,
    iterations: o.iterations ?? recipe.iterations, trainImages: o.trainImages ?? null, workers: o.workers ?? 1,
  };
}

/**
 * Trains a classifier as configured; see the module comment for the outputs. The run holds the
 * output folder's lock (src/io/lock.ts) from start to end, and first removes temporary files
 * that a killed run left there.
 * @throws UserError when another live run holds the folder, for a new run on a folder with a
 *   checkpoint, and on resume for an option that contradicts the checkpoint's settings (an
 *   OptionError naming the option's field)
 */
export async function trainClassifier(o: ClassifierRunOptions): Promise<ClassifierRunResult> {
  if (o.preset !== undefined) recipeByName(o.preset);
  const checkpoint = path.join(o.out, CHECKPOINT_FILE);
  let final: Record<string, number> = {};
  const r = await runTraining<ClassifierRunConfig, ClassificationBatch>({
    options: o,
    files: { checkpoint, log: path.join(o.out, METRICS_FILE), plot: path.join(o.out, CURVES_FILE) },
    iterations: (config) => config.iterations,
    fresh: () => freshConfig(o),
    resumed: (saved) => resumedConfig(saved as ClassifierRunConfig, o, checkpoint),
    prepare: (config) => classifierParts(config, o, (metrics) => (final = metrics)),
  });
  return { checkpoint: r.checkpoint, metricsLog: r.logFile, plot: r.plotFile, step: r.step, final };
}

/**
 * The trainer's parts of a run once its settings are known: the data (checked against what a
 * resumed run trained on), the backbone, the recipe's schedule and evaluation.
 * @param onEvaluated receives each evaluation's metrics
 */
async function classifierParts(config: ClassifierRunConfig, o: ClassifierRunOptions, onEvaluated: (metrics: Record<string, number>) => void): Promise<RunParts<ClassificationBatch>> {
  const { recipe, seed } = config;
  const data = openClassificationData(config.data);
  if (!data.train) throw new UserError(`${config.data}: expected a training set (train/, data_batch_*.bin or train-images-idx3-ubyte), got none`);
  const found = { images: data.train.records.length, classes: data.train.classes.length };
  if (config.found && !same(config.found, found)) {
    const had = config.found;
    throw new OptionError((n) => `${config.data}: ${n('data')}: expected the data the run being resumed trained on (${had.images} training images of ${had.classes} classes), got ${found.images} images of ${found.classes} classes`);
  }
  config.found = found;
  let train: ClassificationSet = data.train;
  if (config.trainImages !== null && config.trainImages < train.records.length) {
    train = holdOut(train, train.records.length - config.trainImages, seed).train;
  }
  const evalSets: Array<[string, ClassificationSet]> = [];
  if (recipe.holdout > 0) {
    // at most a tenth of the images (5k of 50k for CIFAR-10; less on a trainImages subset)
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

  const schedule = scheduleOf(recipe, config.model, o.quiet ? undefined : (m) => process.stderr.write(`${o.label ? `${o.label} ` : ''}${m}\n`));
  const mappers = setMappers(train, recipe.augment, recipe.normalisation);
  const evalMappers = evalSets.map(([name, set]) => [name, set, setMappers(set, recipe.augment, recipe.normalisation)] as const);
  const monitor = evalSets.length ? evalSets[0][0] : undefined;
  const backboneOptions = { numClasses: train.classes.length, seed };
  const model = createBackbone(config.model, backboneOptions);
  return {
    model,
    task: classificationTask(model),
    data: new ShuffledBatches(train, mappers.train, { batchSize: recipe.batchSize, seed, sampleShape: mappers.sampleShape }),
    schedule,
    sgd: { momentum: recipe.momentum, weightDecay: recipe.weightDecay },
    logEvery: recipe.logEvery,
    checkpointEvery: recipe.checkpointEvery,
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
            onEvaluated(result);
            return result;
          },
        }
      : undefined,
    workers: config.workers,
    startParallel: () => startClassificationParallel(model, config.model, backboneOptions, config.workers),
    plot: async (rows, file) => {
      const metrics = [...new Set(rows.flatMap((r) => Object.keys(r)).filter((k) => k.endsWith('_error')))];
      const curves = [
        { ...curvesFromLog(rows, 'train error', CURVE_COLORS[0])[0] },
        ...metrics.map((m, i) => curvesFromLog(rows, m.replace('_', ' '), CURVE_COLORS[(i + 1) % CURVE_COLORS.length], m)[1]),
      ];
      await writeSvgPng(errorCurvesSvg([{ title: config.model, curves }]), file);
    },
    dispose: () => model.dispose(),
  };
}
