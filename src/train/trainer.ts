/**
 * The training loop shared by classification and detection. A task supplies the loss of one
 * batch (`TrainTask.step`); the trainer owns everything around it: gradients over the model's
 * trainable variables, SGD, the learning-rate schedule, BN train/eval switching, NaN detection,
 * logging, evaluation and checkpoints with exact resume.
 *
 * Exact resume: the batch of update `s` must be a pure function of (seed, s) (see
 * datasets/classification/batches.ts), the rate a function of s and the schedule's saved state,
 * and the model, momentum buffers, step and random generators all go into the checkpoint, so a
 * run killed at any point and resumed from its last checkpoint repeats the same updates.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/index.ts';
import type { Rng } from '../random.ts';
import { saveCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { LrSchedule } from './schedule.ts';
import { Sgd, type SgdOptions } from './sgd.ts';

/** What a task's step returns; tensors are created inside the trainer's gradient scope. */
export interface StepOutput {
  /** the total loss to minimise (for a detector: rpn_cls + rpn_box + cls + box) */
  loss: tf.Scalar;
  /** named scalars to log, e.g. {error} or {rpn_cls, rpn_box, cls, box}; the trainer disposes them */
  metrics?: Record<string, tf.Scalar>;
  /** images in the batch, for images/s */
  examples: number;
}

/** A training task: the model's loss on one batch. */
export interface TrainTask<B> {
  /**
   * Runs the forward pass on `batch` and returns the loss. Called inside `tf.variableGrads`
   * with the model in training mode; must not dispose the returned tensors.
   */
  step(batch: B, step: number): StepOutput;
}

/** The loss, metrics and gradients of one batch, as `taskGradients` computes them. */
export interface BatchGradients {
  loss: number;
  metrics: Record<string, number>;
  examples: number;
  /** tfjs variable name -> gradient (as `tf.variableGrads` keys them); the receiver disposes them */
  grads: tf.NamedTensorMap;
}

/**
 * Runs `task` on `batch` with `model` in training mode and returns its loss, metrics and the
 * gradients of the model's trainable variables (the data-parallel workers of src/parallel run
 * the same function on their shards).
 */
export function taskGradients<B>(model: Module, task: TrainTask<B>, batch: B, step: number): BatchGradients {
  model.train();
  let out: StepOutput | undefined;
  const { value, grads } = tf.variableGrads(() => {
    out = task.step(batch, step);
    for (const m of Object.values(out.metrics ?? {})) tf.keep(m);
    return out.loss;
  }, model.trainableVariables());
  const metricTensors = out!.metrics ?? {};
  const loss = value.dataSync()[0];
  const metrics = Object.fromEntries(Object.entries(metricTensors).map(([n, t]) => [n, t.dataSync()[0]]));
  value.dispose();
  for (const t of Object.values(metricTensors)) t.dispose();
  return { loss, metrics, examples: out!.examples, grads };
}

/** Supplies the batch of each update; `batch(s)` must depend only on the seed and `s`. */
export interface BatchSource<B> {
  batch(step: number): Promise<B>;
  /** frees a batch after its step (when batches hold tensors) */
  release?(batch: B): void;
}

/** One row of the metrics log. */
export interface LogRow {
  kind: 'train' | 'eval';
  /** updates done when the row was written */
  step: number;
  /**
   * train rows: mean of the loss and metrics over the steps since the last row (across a
   * resume too: the open window is saved in the checkpoint)
   */
  [metric: string]: number | string;
}

/** Per-step progress, for a progress bar. */
export interface StepInfo {
  step: number;
  lr: number;
  loss: number;
  metrics: Record<string, number>;
  /** images per second over the last log window */
  imagesPerSecond: number;
  elapsedMs: number;
}

export interface TrainerOptions<B> {
  model: Module;
  task: TrainTask<B>;
  data: BatchSource<B>;
  schedule: LrSchedule;
  sgd?: SgdOptions;
  /** stop after this many updates in total */
  iterations: number;
  /** also stop after this much wall time in this process (a checkpoint is written at the stop) */
  timeLimitMs?: number;
  /** log a train row every this many steps; default 50 */
  logEvery?: number;
  checkpoint?: {
    path: string;
    /** write every this many steps (and at the end); 0 = only at the end */
    every: number;
    /** the run's configuration, stored in the checkpoint */
    config: unknown;
  };
  evaluation?: {
    /** evaluate every this many steps (and at the end) */
    every: number;
    /** runs with the model in eval mode; returns metrics such as {test_error} */
    run(step: number): Promise<Record<string, number>>;
    /** the metric the schedule observes (divide-on-plateau) */
    monitor?: string;
  };
  /** random generators the task uses (e.g. RoI sampling), saved and restored by name */
  rngs?: Record<string, Rng>;
  /**
   * computes each batch's gradients elsewhere instead of in this thread, e.g. data parallel over
   * worker threads (src/parallel/data-parallel.ts); absent: `taskGradients` here
   */
  gradients?(batch: B, step: number): Promise<BatchGradients>;
  onStep?(info: StepInfo): void;
  onLog?(row: LogRow): void;
  onCheckpoint?(path: string, step: number): void;
}

/** What one update reports. */
export interface StepResult {
  loss: number;
  metrics: Record<string, number>;
  examples: number;
  lr: number;
}

/** Thrown when the loss is NaN or infinite; the weights of the last good step are kept. */
export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly lr: number,
  ) {
    super(`training diverged: loss is ${loss} at step ${step} (lr ${lr}); the update was not applied and no checkpoint was written with it`);
    this.name = 'TrainingDivergedError';
  }
}

/** Sums of the loss and metrics over the steps since the last train row. */
interface LogWindow {
  steps: number;
  loss: number;
  metrics: Record<string, number>;
}

function emptyWindow(): LogWindow {
  return { steps: 0, loss: 0, metrics: {} };
}

/** A checkpoint's `extra.logWindow` (absent in checkpoints from before it was saved: empty). */
function parseLogWindow(v: unknown): LogWindow {
  const w = v as Partial<LogWindow> | undefined;
  if (!w || typeof w !== 'object' || !Number.isInteger(w.steps) || typeof w.loss !== 'number' || typeof w.metrics !== 'object' || w.metrics === null) return emptyWindow();
  const metrics = Object.fromEntries(Object.entries(w.metrics).filter(([, x]) => typeof x === 'number')) as Record<string, number>;
  return { steps: w.steps!, loss: w.loss, metrics };
}

/** Runs SGD on a task; see the module comment for the exact-resume contract. */
export class Trainer<B> {
  readonly optimizer: Sgd;
  /** updates done so far */
  step = 0;
  /** task state restored from a checkpoint's `extra` (and saved back) */
  extra: Record<string, unknown> = {};
  private readonly opts: TrainerOptions<B>;
  /** sums over the steps since the last train row (saved in checkpoints as `extra.logWindow`) */
  private window: LogWindow = emptyWindow();

  constructor(opts: TrainerOptions<B>) {
    this.opts = opts;
    this.optimizer = new Sgd(opts.model.namedParameters(), opts.sgd);
  }

  /**
   * Restores model, optimiser, step, schedule and random generators from a checkpoint
   * (the caller still owns and disposes `ckpt`'s tensors).
   */
  restore(ckpt: Checkpoint): void {
    this.opts.model.loadStateDict(ckpt.model);
    this.optimizer.loadStateDict(ckpt.optimizer);
    this.step = ckpt.step;
    if (ckpt.schedule && this.opts.schedule.load) this.opts.schedule.load(ckpt.schedule);
    for (const [name, rng] of Object.entries(this.opts.rngs ?? {})) {
      const s = ckpt.rng[name];
      if (typeof s !== 'number') throw new Error(`checkpoint has no state for random generator '${name}'`);
      rng.state = s;
    }
    const { logWindow, ...extra } = ckpt.extra;
    this.extra = extra;
    this.window = parseLogWindow(logWindow);
  }

  /** The current state as a checkpoint (tensors are the live variables: do not dispose). */
  snapshot(): Checkpoint {
    return {
      step: this.step,
      config: this.opts.checkpoint?.config ?? null,
      rng: Object.fromEntries(Object.entries(this.opts.rngs ?? {}).map(([n, r]) => [n, r.state])),
      schedule: this.opts.schedule.state?.() ?? null,
      // the open log window, so that the first row after a resume averages the same steps
      // as the straight run's row does
      extra: this.window.steps > 0 ? { ...this.extra, logWindow: { ...this.window, metrics: { ...this.window.metrics } } } : this.extra,
      model: this.opts.model.stateDict(),
      optimizer: this.optimizer.stateDict(),
    };
  }

  /** Writes a checkpoint, refusing weights that are not finite. */
  saveCheckpoint(file: string): void {
    const bad = this.opts.model.namedSlots().find(([, s]) => tf.tidy(() => tf.any(tf.logicalNot(tf.isFinite(s.variable))).dataSync()[0] !== 0));
    if (bad) throw new Error(`refusing to checkpoint at step ${this.step}: ${bad[0]} has NaN or infinite values`);
    saveCheckpoint(file, this.snapshot());
    this.opts.onCheckpoint?.(file, this.step);
  }

  /** One update on `batch` in this thread; returns the loss and metric values. */
  trainStep(batch: B): StepResult {
    const lr = this.opts.schedule.lr(this.step);
    return this.update(taskGradients(this.opts.model, this.opts.task, batch, this.step), lr);
  }

  /** One update on `batch`, with the gradients from `opts.gradients` when set (data parallel). */
  async trainStepAsync(batch: B): Promise<StepResult> {
    if (!this.opts.gradients) return this.trainStep(batch);
    const lr = this.opts.schedule.lr(this.step);
    this.opts.model.train();
    return this.update(await this.opts.gradients(batch, this.step), lr);
  }

  /** Applies SGD with `g` (disposing its gradients) unless the loss is not finite. */
  private update(g: BatchGradients, lr: number): StepResult {
    if (!Number.isFinite(g.loss)) {
      tf.dispose(g.grads);
      throw new TrainingDivergedError(this.step, g.loss, lr);
    }
    this.optimizer.apply(g.grads, lr);
    tf.dispose(g.grads);
    // error-driven warm-up (src/train/error-warmup.ts) watches the training error of every update
    this.opts.schedule.observeTraining?.(this.step, g.metrics);
    this.step += 1;
    return { loss: g.loss, metrics: g.metrics, examples: g.examples, lr };
  }

  /** Trains until `iterations` updates (or the time limit); returns the step reached. */
  async run(): Promise<number> {
    const { model, data, iterations, evaluation, checkpoint } = this.opts;
    const logEvery = this.opts.logEvery ?? 50;
    const start = Date.now();
    // images/s is timed in this process only (a resumed window's first steps ran in another)
    let timed = { examples: 0, since: Date.now() };
    let imagesPerSecond = 0;
    let lastSaved = this.step;
    while (this.step < iterations) {
      if (this.opts.timeLimitMs !== undefined && Date.now() - start >= this.opts.timeLimitMs) break;
      const batch = await data.batch(this.step);
      let r: StepResult;
      try {
        r = await this.trainStepAsync(batch);
      } finally {
        data.release?.(batch);
      }
      const window = this.window;
      window.steps += 1;
      window.loss += r.loss;
      for (const [n, v] of Object.entries(r.metrics)) window.metrics[n] = (window.metrics[n] ?? 0) + v;
      timed.examples += r.examples;
      const dt = (Date.now() - timed.since) / 1000;
      if (dt > 0) imagesPerSecond = timed.examples / dt;
      this.opts.onStep?.({ step: this.step, lr: r.lr, loss: r.loss, metrics: r.metrics, imagesPerSecond, elapsedMs: Date.now() - start });

      const last = this.step === iterations;
      if (this.step % logEvery === 0 || last) {
        const row: LogRow = { kind: 'train', step: this.step, lr: r.lr, loss: window.loss / window.steps };
        for (const [n, v] of Object.entries(window.metrics)) row[n] = v / window.steps;
        row.images_per_s = imagesPerSecond;
        row.time = new Date().toISOString();
        this.opts.onLog?.(row);
        this.window = emptyWindow();
        timed = { examples: 0, since: Date.now() };
      }
      if (evaluation && (this.step % evaluation.every === 0 || last)) await this.evaluate();
      if (checkpoint && ((checkpoint.every > 0 && this.step % checkpoint.every === 0) || last)) {
        this.saveCheckpoint(checkpoint.path);
        lastSaved = this.step;
      }
    }
    // A time-limited stop: save where we are, so `--resume` continues from here.
    // The evaluation here does not feed the schedule: a straight run would not evaluate at this
    // step, and the resumed run must see the same plateau history.
    if (checkpoint && this.step < iterations && this.step !== lastSaved) {
      if (evaluation) await this.evaluate(false);
      this.saveCheckpoint(checkpoint.path);
    }
    model.train();
    return this.step;
  }

  /**
   * Runs the evaluation in eval mode, logs it and (when `observe`) feeds the monitored metric to
   * the schedule.
   */
  async evaluate(observe = true): Promise<Record<string, number>> {
    const { model, evaluation, schedule } = this.opts;
    if (!evaluation) return {};
    model.eval();
    let result: Record<string, number>;
    try {
      result = await evaluation.run(this.step);
    } finally {
      model.train();
    }
    if (evaluation.monitor && observe) {
      const v = result[evaluation.monitor];
      if (typeof v !== 'number') throw new Error(`evaluation did not return the monitored metric '${evaluation.monitor}'`);
      schedule.observe?.(this.step, v);
    }
    this.opts.onLog?.({ kind: 'eval', step: this.step, ...result, time: new Date().toISOString() });
    return result;
  }

  /** Frees the optimiser state (the model belongs to the caller). */
  dispose(): void {
    this.optimizer.dispose();
  }
}
