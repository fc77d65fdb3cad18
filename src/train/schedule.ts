/**
 * Learning-rate schedules of the paper. Each is a function of the iteration (0-based count of
 * updates done before this one), so a resumed run gets the same rate from the step alone; only
 * divide-on-plateau depends on the history of a metric, and its state is a plain JSON object
 * that checkpoints store.
 *
 * - CIFAR-10 (Sec. 4.2): 0.1, divided by 10 at 32k and 48k iterations, stop at 64k.
 * - ResNet-110 (Sec. 4.2): warm up at 0.01 until training error < 80% (~400 iterations), then 0.1
 *   (`ErrorWarmup` in error-warmup.ts watches the training error; `warmup` here is the fixed count).
 * - ImageNet (Sec. 3.4): 0.1, divided by 10 when the error plateaus.
 */

/** A learning-rate schedule; `state`/`load` exist for schedules with history. */
export interface LrSchedule {
  /** the rate for the update at 0-based iteration `step` */
  lr(step: number): number;
  /** reports a monitored metric measured after `step` updates (plateau schedules use it) */
  observe?(step: number, value: number): void;
  /**
   * reports the training metrics of the update at 0-based iteration `step` (e.g. {error}), right
   * after it; the trainer calls it before the step's checkpoint, so the state saved with step
   * s + 1 includes it (error-driven warm-up uses it)
   */
  observeTraining?(step: number, metrics: Record<string, number>): void;
  /** the serialisable history, for checkpoints */
  state?(): ScheduleState;
  /** restores `state()` output */
  load?(state: ScheduleState): void;
}

/** A schedule's history: JSON numbers, nulls and number lists (e.g. a window of recent errors). */
export type ScheduleState = Record<string, number | null | number[]>;

/** A constant rate. */
export function constantLr(lr: number): LrSchedule {
  return { lr: () => lr };
}

/**
 * Multiplies `base` by `factor` at each milestone: lr(step) = base * factor^k, where k is the
 * number of milestones <= step (PyTorch's MultiStepLR counted in iterations).
 */
export function stepLr(base: number, milestones: readonly number[], factor = 0.1): LrSchedule {
  const sorted = [...milestones].sort((a, b) => a - b);
  return {
    lr: (step) => base * factor ** sorted.filter((m) => m <= step).length,
  };
}

/**
 * Uses `warmupLr` for the first `iterations` updates, then `after` (the paper's ResNet-110
 * recipe: 0.01 for ~400 iterations, until training error is below 80%).
 */
export function warmup(after: LrSchedule, warmupLr: number, iterations: number): LrSchedule {
  return {
    lr: (step) => (step < iterations ? warmupLr : after.lr(step)),
    observe: after.observe?.bind(after),
    observeTraining: after.observeTraining?.bind(after),
    state: after.state?.bind(after),
    load: after.load?.bind(after),
  };
}

export interface PlateauOptions {
  /** multiply by this on a plateau; default 0.1 (paper Sec. 3.4: "divided by 10") */
  factor?: number;
  /** the rate drops when more than this many observations in a row do not improve; default 3 */
  patience?: number;
  /** an improvement must beat the best by this relative margin; default 1e-3 */
  threshold?: number;
  /** 'min' for an error or loss, 'max' for an accuracy; default 'min' */
  mode?: 'min' | 'max';
  /** the rate never goes below this; default 0 */
  minLr?: number;
}

/**
 * Divide-by-10 on plateau (the paper's ImageNet schedule; PyTorch's ReduceLROnPlateau with a
 * relative threshold): after more than `patience` observations without improving on the best value, the
 * rate is multiplied by `factor` and the count starts again.
 */
export class PlateauLr implements LrSchedule {
  private opts: Required<PlateauOptions>;
  private current: number;
  private best: number | null = null;
  private bad = 0;

  constructor(base: number, opts: PlateauOptions = {}) {
    this.opts = { factor: 0.1, patience: 3, threshold: 1e-3, mode: 'min', minLr: 0, ...opts };
    this.current = base;
  }

  lr(): number {
    return this.current;
  }

  observe(_step: number, value: number): void {
    const { mode, threshold } = this.opts;
    const better =
      this.best === null || (mode === 'min' ? value < this.best * (1 - threshold) : value > this.best * (1 + threshold));
    if (better) {
      this.best = value;
      this.bad = 0;
      return;
    }
    this.bad += 1;
    if (this.bad > this.opts.patience) {
      this.current = Math.max(this.current * this.opts.factor, this.opts.minLr);
      this.bad = 0;
    }
  }

  state(): ScheduleState {
    return { lr: this.current, best: this.best, bad: this.bad };
  }

  load(state: ScheduleState): void {
    const { lr, best, bad } = state;
    if (typeof lr !== 'number' || typeof bad !== 'number' || (best !== null && typeof best !== 'number')) {
      throw new Error(`plateau schedule state: expected {lr, best, bad} numbers, got ${JSON.stringify(state)}`);
    }
    this.current = lr;
    this.best = best;
    this.bad = bad;
  }
}
