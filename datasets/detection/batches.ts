/**
 * Training batches of a detection set: aspect-ratio grouping and prefetching.
 *
 * Aspect-ratio grouping (detectron2 `AspectRatioGroupedDataset`, Faster R-CNN's "images of
 * the same orientation in a minibatch"): the images of an epoch are shuffled, then streamed
 * into two buckets, landscape (w >= h) and portrait; a bucket that reaches the batch size
 * becomes a batch, so every batch holds one orientation and padding wastes little. What is
 * left in the buckets at the end of an epoch is dropped, so each epoch's batches depend only on
 * (seed, epoch).
 *
 * Exact resume: the images of update `step` and their flips are a pure function of
 * (seed, step) (the trainer's contract, src/train/trainer.ts), so nothing about the data order
 * needs saving in a checkpoint.
 *
 * Prefetching: asking for batch `s` also starts decoding batches s+1 ... s+prefetch. sharp
 * decodes on libuv's thread pool, so those run while the model computes on the main thread.
 */
import { OptionError } from '../../src/errors.ts';
import { Rng } from '../../src/random.ts';
import { mapRecord, type MappedImage, type MapperOptions } from './mapper.ts';
import type { DetectionRecord } from './records.ts';

/** A 32-bit mix of integers, for per-(seed, epoch) and per-(seed, step, slot) generators. */
export function mixSeed(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/** Options of {@link GroupedBatchPlan}. */
export interface BatchPlanOptions {
  batchSize: number;
  seed: number;
  /** group by orientation; default true */
  groupByAspect?: boolean;
}

/** Which records form each batch (see the module comment). */
export class GroupedBatchPlan {
  private readonly epochs: number[][][] = [];
  private readonly orientation: Uint8Array;

  constructor(
    records: ReadonlyArray<Pick<DetectionRecord, 'width' | 'height'>>,
    private readonly opts: BatchPlanOptions,
  ) {
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize >= 1)) throw new Error(`batch size: expected an integer >= 1, got ${opts.batchSize}`);
    this.orientation = Uint8Array.from(records.map((r) => (opts.groupByAspect === false || r.width >= r.height ? 0 : 1)));
    // An epoch must yield a batch, or `batch(step)` would search forever.
    const counts = [0, 0];
    for (const o of this.orientation) counts[o]++;
    if (Math.max(...counts) < opts.batchSize) {
      throw new OptionError((n) => `${n('batchSize')} ${opts.batchSize}: expected at most the images of one orientation (batches are grouped by orientation), got ${counts[0]} landscape and ${counts[1]} portrait images`);
    }
  }

  /** The batches of epoch `e` (record indices). */
  epoch(e: number): number[][] {
    while (this.epochs.length <= e) {
      const k = this.epochs.length;
      const order = new Rng(mixSeed(this.opts.seed, k)).shuffle([...this.orientation.keys()]);
      const buckets: number[][] = [[], []];
      const batches: number[][] = [];
      for (const i of order) {
        const b = buckets[this.orientation[i]];
        b.push(i);
        if (b.length === this.opts.batchSize) batches.push(b.splice(0));
      }
      this.epochs.push(batches);
    }
    return this.epochs[e];
  }

  /** Record indices of update `step` (0-based, counted over all epochs). */
  batch(step: number): number[] {
    let e = 0;
    let s = step;
    while (s >= this.epoch(e).length) {
      s -= this.epoch(e).length;
      e++;
    }
    return this.epoch(e)[s];
  }
}

/** One training batch: mapped images of one orientation. */
export interface DetectionBatch {
  step: number;
  images: MappedImage[];
}

/** Options of {@link DetectionBatchSource}. */
export interface BatchSourceOptions extends BatchPlanOptions {
  mapper: MapperOptions;
  /** random horizontal flips with probability 0.5; default true */
  flip?: boolean;
  /** batches decoded ahead; default 2 */
  prefetch?: number;
}

/**
 * The trainer's batch source over a detection set (src/train/trainer.ts `BatchSource`):
 * `batch(step)` is the same for the same (seed, step), whatever was asked before.
 */
export class DetectionBatchSource {
  readonly plan: GroupedBatchPlan;
  private readonly pending = new Map<number, Promise<DetectionBatch>>();

  constructor(
    readonly records: readonly DetectionRecord[],
    private readonly opts: BatchSourceOptions,
  ) {
    this.plan = new GroupedBatchPlan(records, opts);
  }

  /** Whether slot `j` of update `step` is flipped: a pure function of (seed, step, j). */
  flipped(step: number, j: number): boolean {
    return this.opts.flip !== false && new Rng(mixSeed(this.opts.seed, step, j, 0xf11b)).next() < 0.5;
  }

  private load(step: number): Promise<DetectionBatch> {
    let p = this.pending.get(step);
    if (!p) {
      const indices = this.plan.batch(step);
      p = Promise.all(indices.map((i, j) => mapRecord(this.records[i], this.opts.mapper, this.flipped(step, j))))
        .then((images) => ({ step, images }));
      // A prefetched batch that fails is reported when it is asked for, not as an unhandled rejection.
      p.catch(() => undefined);
      this.pending.set(step, p);
    }
    return p;
  }

  /** The batch of update `step`; starts decoding the next `prefetch` batches. */
  batch(step: number): Promise<DetectionBatch> {
    const p = this.load(step);
    for (const s of [...this.pending.keys()]) if (s < step) this.pending.delete(s);
    for (let k = 1; k <= (this.opts.prefetch ?? 2); k++) this.load(step + k);
    this.pending.delete(step);
    return p;
  }
}
