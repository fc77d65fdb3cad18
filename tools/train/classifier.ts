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
import { startClassificationParallel } from '../../src/parallel/classification.ts';
import { DataParallelError, type DataParallel } from '../../src/parallel/data-parallel.ts';
import { UserError } from '../../src/errors.ts';
import { disposeCheckpoint, loadCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { classificationErrors, classificationTask, type ClassificationBatch } from '../../src/train/classification.ts';
import { MetricsLog, readMetricsLog } from '../../src/train/metrics-log.ts';
import { CURVE_COLORS, curvesFromLog, errorCurvesSvg, writeSvgPng } from '../../src/train/plot.ts';
import { TrainingProgress } from '../../src/train/progress.ts';
import { ErrorWarmup } from '../../src/train/error-warmup.ts';
import { PlateauLr, stepLr, type LrSchedule } from '../../src/train/schedule.ts';
import { Trainer, TrainingDivergedError } from '../../src/train/trainer.ts';
import type { ClassifierRecipe } from '../recipes/index.ts';

export interface ClassifierRunOptions {
  /** backbone name, e.g. 'resnet20' */
  model: string;
  /** data folder (see datasets/classification/index.ts for layouts) */
  data: string;
  recipe: ClassifierRecipe;
  /** output folder */
  out: string;
  /** stop after this many updates in total (default: the recipe's) */
  iterations?: number;
  /** stop after this many minutes of training in this process */
  minutes?: number;
  /** continue from out/checkpoint.safetensors */
  resume?: boolean;
  seed: number;
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

/** Trains a classifier as configured; see the module comment for the outputs. */
export async function trainClassifier(o: ClassifierRunOptions): Promise<ClassifierRunResult> {
  await initBackend();
  const recipe = o.recipe;
  const iterations = o.iterations ?? recipe.iterations;
  const data = openClassificationData(o.data);
  if (!data.train) throw new UserError(`${o.data}: expected a training set (train/, data_batch_*.bin or train-images-idx3-ubyte), got none`);
  let train: ClassificationSet = data.train;
  if (o.trainImages !== undefined && o.trainImages < train.records.length) {
    train = holdOut(train, train.records.length - o.trainImages, o.seed).train;
  }
  const evalSets: Array<[string, ClassificationSet]> = [];
  if (recipe.holdout > 0) {
    // at most a tenth of the images (5k of 50k for CIFAR-10; less on a --train-images subset)
    const split = holdOut(train, Math.min(recipe.holdout, Math.floor(train.records.length / 10)), o.seed);
    train = split.train;
    evalSets.push(['val_error', split.val]);
  }
  if (data.test) evalSets.push(['test_error', data.test]);

  const config = { model: o.model, data: path.resolve(o.data), recipe, seed: o.seed, iterations, trainImages: o.trainImages ?? null, workers: o.workers ?? 1 };
  const ckptFile = path.join(o.out, CHECKPOINT_FILE);
  let ckpt: Checkpoint | undefined;
  if (o.resume) {
    if (!fs.existsSync(ckptFile)) throw new UserError(`${ckptFile}: --resume: expected a checkpoint from an earlier run, got none`);
    ckpt = loadCheckpoint(ckptFile);
    const saved = ckpt.config as { model?: string; seed?: number } | null;
    const bad = saved?.model !== o.model ? `config.model: expected ${JSON.stringify(o.model)} (--model), got ${JSON.stringify(saved?.model)}`
      : saved?.seed !== o.seed ? `config.seed: expected ${o.seed} (--seed), got ${JSON.stringify(saved?.seed)}: the data order would differ` : undefined;
    if (bad) {
      disposeCheckpoint(ckpt);
      throw new UserError(`${ckptFile}: ${bad}`);
    }
    const savedWorkers = (ckpt.config as { workers?: unknown }).workers;
    if (o.workers === undefined && typeof savedWorkers === 'number') config.workers = savedWorkers;
  } else if (fs.existsSync(ckptFile)) {
    throw new UserError(`${ckptFile}: a checkpoint is already there; pass --resume to continue it or choose another --out`);
  }
  const backboneOptions = { numClasses: train.classes.length, seed: o.seed };
  const model = createBackbone(o.model, backboneOptions);
  const schedule = scheduleOf(recipe, o.model, o.quiet ? undefined : (m) => process.stderr.write(`${o.label ? `${o.label} ` : ''}${m}\n`));
  const mappers = setMappers(train, recipe.augment, recipe.normalisation);
  const batches = new ShuffledBatches(train, mappers.train, { batchSize: recipe.batchSize, seed: o.seed, sampleShape: mappers.sampleShape });
  const evalMappers = evalSets.map(([name, set]) => [name, set, setMappers(set, recipe.augment, recipe.normalisation)] as const);
  const monitor = evalSets.length ? evalSets[0][0] : undefined;
  let final: Record<string, number> = {};
  const timeLimitMs = o.minutes !== undefined ? o.minutes * 60_000 : undefined;
  const log = new MetricsLog(path.join(o.out, METRICS_FILE), ckpt?.step);
  const progress = new TrainingProgress({ total: iterations, start: ckpt?.step ?? 0, timeLimitMs, quiet: o.quiet, label: o.label });


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

  if (ckpt) {
    try {
      trainer.restore(ckpt);
    } finally {
      disposeCheckpoint(ckpt);
    }
  }
  try {
    const run = async (): Promise<number> => {
      if (config.workers > 1) parallel = await startClassificationParallel(model, o.model, backboneOptions, config.workers);
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
  await writeSvgPng(errorCurvesSvg([{ title: o.model, curves }]), plot);
  return { checkpoint: ckptFile, metricsLog: log.file, plot, step: trainer.step, final };
}
