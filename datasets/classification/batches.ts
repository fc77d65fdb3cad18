/**
 * Training batches in a reproducible order with prefetching.
 *
 * The order is a pure function of (seed, epoch): each epoch is a fresh Fisher-Yates shuffle
 * seeded by both, and the batch of update `s` is positions [s mod E * B, +B) of epoch
 * floor(s / E), where E = floor(N / B) batches per epoch (the last partial batch is dropped).
 * Each image's augmentation draws from an Rng seeded by (seed, step, position). So a resumed
 * run gets exactly the batches the killed run would have had, from the step alone.
 *
 * Prefetching: asking for batch s starts building batches s+1 ... s+depth in the background
 * (file decoding runs in sharp's threads), so decoding overlaps the training step.
 */
import { Rng } from '../../src/random.ts';
import type { ClassificationBatch } from '../../src/train/classification.ts';
import type { BatchSource } from '../../src/train/trainer.ts';
import type { ClassificationSet } from './records.ts';

/** Mixes integers into one 32-bit seed (murmur3's finaliser after each value). */
export function mixSeed(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Turns record `index` into one network input of `sampleShape`, using only `rng` for randomness. */
export type SampleMapper = (index: number, rng: Rng) => Float32Array | Promise<Float32Array>;

export interface BatchOptions {
  batchSize: number;
  seed: number;
  /** [H, W, C] of one mapped sample */
  sampleShape: readonly number[];
  /** batches built ahead of the one asked for; default 2 */
  prefetch?: number;
}

/** The trainer's batch source for a classification set; see the module comment. */
export class ShuffledBatches implements BatchSource<ClassificationBatch> {
  readonly batchesPerEpoch: number;
  private readonly ahead = new Map<number, Promise<ClassificationBatch>>();
  private orderCache: { epoch: number; order: Int32Array } | undefined;

  constructor(
    readonly set: ClassificationSet,
    readonly map: SampleMapper,
    readonly opts: BatchOptions,
  ) {
    this.batchesPerEpoch = Math.floor(set.records.length / opts.batchSize);
    if (this.batchesPerEpoch < 1) throw new Error(`batch size ${opts.batchSize} is larger than the ${set.records.length} training images`);
  }

  /** The record order of `epoch` (a pure function of seed and epoch). */
  order(epoch: number): Int32Array {
    if (this.orderCache?.epoch !== epoch) {
      const idx = Array.from({ length: this.set.records.length }, (_, i) => i);
      this.orderCache = { epoch, order: Int32Array.from(new Rng(mixSeed(this.opts.seed, epoch)).shuffle(idx)) };
    }
    return this.orderCache.order;
  }

  /** The record indices of update `step`'s batch. */
  indices(step: number): Int32Array {
    const epoch = Math.floor(step / this.batchesPerEpoch);
    const start = (step % this.batchesPerEpoch) * this.opts.batchSize;
    return this.order(epoch).slice(start, start + this.opts.batchSize);
  }

  private async build(step: number): Promise<ClassificationBatch> {
    const { batchSize, sampleShape, seed } = this.opts;
    const idx = this.indices(step);
    const size = sampleShape.reduce((a, b) => a * b, 1);
    const images = new Float32Array(batchSize * size);
    const labels = new Int32Array(batchSize);
    await Promise.all(
      Array.from(idx, async (r, i) => {
        const x = await this.map(r, new Rng(mixSeed(seed, step, i)));
        if (x.length !== size) throw new Error(`sample mapper returned ${x.length} values for record ${this.set.records[r].id}, expected [${sampleShape}]`);
        images.set(x, i * size);
        labels[i] = this.set.records[r].label;
      }),
    );
    return { images, labels, shape: [batchSize, ...sampleShape] };
  }

  /** The batch of update `step`; starts building the next `prefetch` batches. */
  batch(step: number): Promise<ClassificationBatch> {
    for (const s of this.ahead.keys()) if (s < step) this.ahead.delete(s);
    const depth = this.opts.prefetch ?? 2;
    for (let s = step; s <= step + depth; s++) {
      if (!this.ahead.has(s)) {
        const p = this.build(s);
        p.catch(() => undefined); // an error surfaces when that batch is asked for
        this.ahead.set(s, p);
      }
    }
    const p = this.ahead.get(step)!;
    this.ahead.delete(step);
    return p;
  }
}

/**
 * Evaluation batches in record order (the last batch may be smaller), building the next batch
 * while the caller runs the current one.
 * @param limit evaluate only `limit` records, evenly spaced over the set (image folders are
 *   sorted by class, so the first records would all be one class)
 */
export async function* orderedBatches(set: ClassificationSet, map: (index: number) => Float32Array | Promise<Float32Array>, sampleShape: readonly number[], batchSize: number, limit = Infinity): AsyncGenerator<ClassificationBatch> {
  const n = Math.min(limit, set.records.length);
  const total = set.records.length;
  // record of the i-th evaluated sample: every record, or n evenly spaced ones
  const pick = (i: number): number => (n === total ? i : Math.floor((i * total) / n));
  const size = sampleShape.reduce((a, b) => a * b, 1);
  const build = async (start: number): Promise<ClassificationBatch> => {
    const count = Math.min(batchSize, n - start);
    const images = new Float32Array(count * size);
    const labels = new Int32Array(count);
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        images.set(await map(pick(start + i)), i * size);
        labels[i] = set.records[pick(start + i)].label;
      }),
    );
    return { images, labels, shape: [count, ...sampleShape] };
  };
  let next = n > 0 ? build(0) : undefined;
  for (let start = 0; start < n; start += batchSize) {
    const current = await next!;
    next = start + batchSize < n ? build(start + batchSize) : undefined;
    yield current;
  }
}
