/**
 * Error-driven warm-up, the paper's ResNet-110 recipe (Sec. 4.2): "we use 0.01 to warm up the
 * training until the training error is below 80% (about 400 iterations), and then go back to
 * 0.1". The paper does not say how the training error is measured; here it is the running mean
 * of the per-batch top-1 training error over the last `window` updates (default 20 updates, 2560
 * images at batch 128), so one lucky batch does not end the warm-up, and the warm-up ends after
 * the first update at which that mean is below `threshold`. The window must be full before it
 * can end.
 *
 * Once over, it stays over: the rate is `after.lr(step)` with the absolute iteration, so the
 * main schedule's milestones (32k, 48k) are unchanged.
 *
 * Safety: a net that never gets below 80% would stay at 0.01 for the whole run. The warm-up
 * keeps going (switching to 0.1 regardless could blow up a net that is not learning), but at
 * `warnAfter` iterations (default 2000, five times the paper's ~400) it logs once that it is
 * still warming up, with the current mean error, so the user can look at the run.
 *
 * Exact resume: the state (the iteration the warm-up ended at, or null, and the window of
 * recent errors) goes into the checkpoint with the main schedule's state, so a resumed run
 * switches at the same iteration as an uninterrupted one.
 */
import type { LrSchedule, ScheduleState } from './schedule.ts';

export interface ErrorWarmupOptions {
  /** the warm-up rate; the paper: 0.01 */
  lr: number;
  /** the warm-up ends once the mean training error is below this; the paper: 0.8 */
  threshold?: number;
  /** updates in the running mean; default 20 */
  window?: number;
  /** the training metric watched (classificationTask reports `error`); default 'error' */
  metric?: string;
  /** log once if the warm-up has not ended after this many updates; default 2000 */
  warnAfter?: number;
  /** where the two messages go (the warm-up's end, the warning); default nowhere */
  log?(message: string): void;
}

/** Keys of `state()` owned by the warm-up (the main schedule's keys sit beside them). */
const ENDED_AT = 'warmup_ended_at';
const RECENT = 'warmup_recent_errors';

/** Warm-up at `opts.lr` until the running mean training error is below a threshold; see the module comment. */
export class ErrorWarmup implements LrSchedule {
  private readonly opts: Required<Omit<ErrorWarmupOptions, 'log'>> & Pick<ErrorWarmupOptions, 'log'>;
  /** the first iteration at the main rate, once the warm-up is over */
  private endedAt: number | null = null;
  /** training errors of the last `window` updates, oldest first */
  private recent: number[] = [];

  constructor(
    private readonly after: LrSchedule,
    opts: ErrorWarmupOptions,
  ) {
    this.opts = { threshold: 0.8, window: 20, metric: 'error', warnAfter: 2000, ...opts };
    if (!(Number.isInteger(this.opts.window) && this.opts.window >= 1)) throw new Error(`warm-up window: expected a positive integer, got ${this.opts.window}`);
  }

  /** the iteration from which the main schedule applies, or null while warming up */
  get endedAtStep(): number | null {
    return this.endedAt;
  }

  lr(step: number): number {
    return this.endedAt !== null && step >= this.endedAt ? this.after.lr(step) : this.opts.lr;
  }

  observe(step: number, value: number): void {
    this.after.observe?.(step, value);
  }

  observeTraining(step: number, metrics: Record<string, number>): void {
    if (this.endedAt !== null) {
      this.after.observeTraining?.(step, metrics);
      return;
    }
    const { metric, window, threshold, warnAfter } = this.opts;
    const e = metrics[metric];
    if (typeof e !== 'number') throw new Error(`error-driven warm-up: the training step reported no '${metric}' metric (got ${Object.keys(metrics).join(', ') || 'none'})`);
    this.recent.push(e);
    if (this.recent.length > window) this.recent.shift();
    const mean = this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    if (this.recent.length === window && mean < threshold) {
      this.endedAt = step + 1;
      this.recent = [];
      this.opts.log?.(`warm-up over after ${step + 1} iterations: mean training ${metric} over the last ${window} is ${fmt(mean)} < ${threshold}; lr ${this.opts.lr} -> ${this.after.lr(step + 1)}`);
    } else if (step + 1 === warnAfter) {
      this.opts.log?.(`warm-up still on after ${warnAfter} iterations: mean training ${metric} over the last ${this.recent.length} is ${fmt(mean)}, not below ${threshold}; continuing at lr ${this.opts.lr}`);
    }
  }

  state(): ScheduleState {
    return { ...(this.after.state?.() ?? {}), [ENDED_AT]: this.endedAt, [RECENT]: [...this.recent] };
  }

  load(state: ScheduleState): void {
    const { [ENDED_AT]: endedAt, [RECENT]: recent, ...rest } = state;
    const okEnded = endedAt === null || (typeof endedAt === 'number' && Number.isInteger(endedAt) && endedAt >= 0);
    const okRecent = Array.isArray(recent) && recent.length <= this.opts.window && recent.every((v) => typeof v === 'number');
    if (!okEnded || !okRecent) {
      throw new Error(`warm-up schedule state: expected ${ENDED_AT} (integer or null) and ${RECENT} (at most ${this.opts.window} numbers), got ${JSON.stringify({ endedAt, recent })}`);
    }
    this.endedAt = endedAt;
    this.recent = [...recent];
    this.after.load?.(rest);
  }
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}
