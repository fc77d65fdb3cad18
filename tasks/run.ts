/**
 * The skeleton of a training run, shared by the classification and detection tasks
 * (tasks/classification/train.ts `trainClassifier`, tasks/detection/train.ts `trainDetector`):
 *
 *   lock the output folder -> new run or resume (checkpoint check, the task's config) ->
 *   the task's parts (data, model, schedule) -> metrics log + progress -> Trainer (restore,
 *   data-parallel start, run, a checkpoint at the end) -> the task's plot.
 *
 * A task supplies what differs as a {@link TrainingRun}: how a new run's config is made, how a
 * checkpoint's config is resumed (and which options may change), and the trainer's parts. The
 * folder, the checkpoint file, the log, the progress, the threads and the clean-up are here,
 * once. Errors name option fields (`resume`, `out`, `lr`); the CLI words them as flags.
 */
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../src/backend/index.ts';
import { OptionError, UserError } from '../src/errors.ts';
import { removeStaleTempFiles } from '../src/io/atomic.ts';
import { LOCK_FILE, lockFolder } from '../src/io/lock.ts';
import type { Module } from '../src/nn/index.ts';
import { DataParallelError, type DataParallel } from '../src/parallel/data-parallel.ts';
import type { Rng } from '../src/random.ts';
import { disposeCheckpoint, loadCheckpoint, type Checkpoint } from '../src/train/checkpoint.ts';
import { MetricsLog, readMetricsLog } from '../src/train/metrics-log.ts';
import { TrainingProgress } from '../src/train/progress.ts';
import type { LrSchedule } from '../src/train/schedule.ts';
import type { SgdOptions } from '../src/train/sgd.ts';
import { Trainer, TrainingDivergedError, type BatchSource, type LogRow, type StepInfo, type TrainerOptions, type TrainTask } from '../src/train/trainer.ts';

/** What a caller hears from a run while it trains. */
export interface RunCallbacks {
  /** after every update: step, rate, loss, images/s (what the progress bar shows) */
  onStep?(info: StepInfo): void;
  /** every row of the metrics log (training windows and evaluations) as it is written */
  onLog?(row: LogRow): void;
  /** free-form messages: what was loaded, resumed, left to do */
  onInfo?(line: string): void;
}

/** The options every training run takes; each task's options object extends them. */
export interface RunOptions extends RunCallbacks {
  /** output folder; a run holds its lock (src/io/lock.ts) while it trains */
  out: string;
  /** stop after this many updates in total (default: the recipe's, or on resume the checkpoint's) */
  iterations?: number;
  /** also stop after this many minutes of training in this process (a checkpoint is written; `resume` continues) */
  minutes?: number;
  /** continue from the checkpoint in `out`, with its settings */
  resume?: boolean;
  /** seed of initialisation, data order, augmentation and samplers (default 0; on resume the checkpoint's) */
  seed?: number;
  /**
   * threads computing each step, data parallel (src/parallel/); default 1. A resumed run repeats
   * the straight one exactly only with the same count.
   */
  workers?: number;
  /** no progress bar or progress lines (stderr) */
  quiet?: boolean;
  /** prefix of the progress lines, e.g. the model's name */
  label?: string;
}

/** The trainer's parts for one run, built by the task once the run's config is known. */
export interface RunParts<B> {
  model: Module;
  task: TrainTask<B>;
  data: BatchSource<B>;
  schedule: LrSchedule;
  sgd: SgdOptions;
  /** log a training row every this many updates */
  logEvery: number;
  /** write a checkpoint every this many updates (and at the end) */
  checkpointEvery: number;
  /** the task's random generators, saved in the checkpoint */
  rngs?: Record<string, Rng>;
  evaluation?: TrainerOptions<B>['evaluation'];
  /** threads per step; above 1, `startParallel` starts them before the first update */
  workers: number;
  startParallel?(): Promise<DataParallel<B>>;
  /** draws the run's curves from its metrics log into `file` */
  plot(rows: LogRow[], file: string): Promise<void>;
  /** frees what the parts hold (the model) when the run ends, however it ends */
  dispose(): void;
}

/** What a task tells the skeleton about one run. */
export interface TrainingRun<C, B> {
  options: RunOptions;
  /** the checkpoint, metrics log and plot files, inside `options.out` */
  files: { checkpoint: string; log: string; plot: string };
  /** total updates of the run, from its config */
  iterations(config: C): number;
  /** a new run's config (the folder holds no checkpoint) */
  fresh(): C | Promise<C>;
  /**
   * a resumed run's config from its checkpoint's: the saved settings with what the options may
   * change; throws for an option that contradicts them
   */
  resumed(saved: unknown): C;
  /**
   * The trainer's parts. `resuming`: a checkpoint's weights replace the initial ones next (its
   * state is restored after this returns). Whatever it built before throwing it frees itself.
   */
  prepare(config: C, resuming: boolean): Promise<RunParts<B>>;
}

/** What a run did. */
export interface RunOutcome<C> {
  config: C;
  checkpoint: string;
  logFile: string;
  plotFile: string;
  /** the step the run stopped at */
  step: number;
  /** the step it started from (0, or the resumed checkpoint's) */
  startStep: number;
  /** wall time of this process's updates */
  seconds: number;
}

/**
 * Runs a training run as the module comment describes. The output folder is locked from start to
 * end, and temporary files a killed run left there are removed first. The run always ends with
 * a checkpoint in the folder, also when it had nothing left to do.
 * @throws OptionError (a UserError) when another live run holds the folder, for a new run on a
 *   folder with a checkpoint, for `resume` without one, and for what the task's `resumed` refuses
 */
export async function runTraining<C, B>(run: TrainingRun<C, B>): Promise<RunOutcome<C>> {
  await initBackend();
  const out = path.resolve(run.options.out);
  const lock = lockFolder(out);
  try {
    removeStaleTempFiles(out, [...Object.values(run.files).map((f) => path.basename(f)), LOCK_FILE]);
    return await startOrResume(run);
  } finally {
    lock.release();
  }
}

async function startOrResume<C, B>(run: TrainingRun<C, B>): Promise<RunOutcome<C>> {
  const ckptFile = run.files.checkpoint;
  let ckpt: Checkpoint | undefined;
  let config: C;
  if (run.options.resume) {
    if (!fs.existsSync(ckptFile)) throw new OptionError((n) => `${ckptFile}: ${n('resume')}: expected a checkpoint from an earlier run, got none`);
    ckpt = loadCheckpoint(ckptFile);
    try {
      config = run.resumed(ckpt.config);
    } catch (err) {
      disposeCheckpoint(ckpt);
      throw err;
    }
  } else {
    if (fs.existsSync(ckptFile)) throw new OptionError((n) => `${ckptFile}: a checkpoint is already there; pass ${n('resume')} to continue it or choose another ${n('out')}`);
    config = await run.fresh();
  }
  const held = { ckpt };
  try {
    return await train(run, config, held);
  } finally {
    if (held.ckpt) disposeCheckpoint(held.ckpt);
  }
}

/**
 * The run once its config is known. `held.ckpt` is the checkpoint it resumes: freed here as soon
 * as the trainer has restored it (else by the caller).
 */
async function train<C, B>(run: TrainingRun<C, B>, config: C, held: { ckpt?: Checkpoint }): Promise<RunOutcome<C>> {
  const o = run.options;
  const { checkpoint: ckptFile, log: logFile, plot: plotFile } = run.files;
  const iterations = run.iterations(config);
  const parts = await run.prepare(config, held.ckpt !== undefined);
  try {
    const startStep = held.ckpt?.step ?? 0;
    const timeLimitMs = o.minutes !== undefined ? o.minutes * 60_000 : undefined;
    // A resumed run drops rows logged after its checkpoint by the run that was stopped.
    const log = new MetricsLog(logFile, held.ckpt ? startStep : undefined);
    const progress = new TrainingProgress({ total: iterations, start: startStep, timeLimitMs, quiet: o.quiet, label: o.label });
    // started inside the try below, so that its finally always stops the threads
    let parallel: DataParallel<B> | undefined;
    const trainer = new Trainer<B>({
      model: parts.model,
      task: parts.task,
      ...(parts.workers > 1 ? { gradients: (batch: B, step: number) => parallel!.gradients(batch, step) } : {}),
      data: parts.data,
      schedule: parts.schedule,
      sgd: parts.sgd,
      iterations,
      timeLimitMs,
      logEvery: parts.logEvery,
      checkpoint: { path: ckptFile, every: parts.checkpointEvery, config },
      ...(parts.rngs ? { rngs: parts.rngs } : {}),
      evaluation: parts.evaluation,
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
    const t0 = Date.now();
    let step = startStep;
    try {
      if (held.ckpt) {
        const c = held.ckpt;
        held.ckpt = undefined;
        try {
          trainer.restore(c);
        } finally {
          disposeCheckpoint(c);
        }
        o.onInfo?.(`resumed from ${ckptFile} at step ${trainer.step}`);
      }
      step = trainer.step;
      if (step < iterations) {
        if (parts.workers > 1) parallel = await parts.startParallel!();
        step = await trainer.run().catch((err: unknown) => {
          if (err instanceof TrainingDivergedError) throw new OptionError((n) => `${err.message}; try a lower ${n('lr')}, or ${n('resume')} from ${ckptFile}`);
          if (err instanceof DataParallelError) throw new UserError(`${err.message} (at step ${trainer.step}; the last checkpoint, if any, is ${ckptFile})`);
          throw err;
        });
      } else {
        o.onInfo?.(`already at step ${step} of ${iterations}: nothing to do`);
      }
      if (!fs.existsSync(ckptFile) || step === startStep) trainer.saveCheckpoint(ckptFile);
    } finally {
      await parallel?.close();
      progress.stop();
      log.close();
      trainer.dispose();
    }
    const seconds = (Date.now() - t0) / 1000;
    await parts.plot(readMetricsLog(logFile), plotFile);
    return { config, checkpoint: ckptFile, logFile, plotFile, step, startStep, seconds };
  } finally {
    parts.dispose();
  }
}
