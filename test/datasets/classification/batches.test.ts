import assert from 'node:assert/strict';
import { ShuffledBatches, mixSeed, orderedBatches } from '../../../datasets/classification/batches.ts';
import type { ClassificationSet } from '../../../datasets/classification/records.ts';

/** 10 records; the mapper writes the record index and one random draw. */
const SET: ClassificationSet = {
  source: 'test',
  classes: ['even', 'odd'],
  records: Array.from({ length: 10 }, (_, i) => ({ id: String(i), label: i % 2, image: { kind: 'file' as const, path: `${i}.jpg` } })),
};

describe('datasets/classification batches', () => {
  it('the batch of a step is a pure function of (seed, step), with prefetching', async () => {
    const make = (): ShuffledBatches => new ShuffledBatches(SET, async (i, rng) => new Float32Array([i, rng.next()]), { batchSize: 3, seed: 42, sampleShape: [2] });
    const a = make();
    const b = make();
    // 3 batches per epoch (the 10th image is dropped each epoch)
    assert.equal(a.batchesPerEpoch, 3);
    const fromA = [];
    for (let s = 0; s < 7; s++) fromA.push(await a.batch(s));
    // b jumps straight to step 5 (a resumed run): the same batch
    assert.deepEqual(await b.batch(5), fromA[5]);
    assert.deepEqual(fromA[5].shape, [3, 2]);
    assert.deepEqual([...fromA[5].labels], [...fromA[5].images.filter((_, k) => k % 2 === 0)].map((i) => i % 2));
    // one epoch (steps 0-2) never repeats an image; epochs are shuffled differently
    const epoch0 = [0, 1, 2].flatMap((s) => [...a.indices(s)]);
    assert.equal(new Set(epoch0).size, 9);
    assert.notDeepEqual([3, 4, 5].flatMap((s) => [...a.indices(s)]), epoch0);
    assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
  });

  it('surfaces a mapper error when that batch is asked for', async () => {
    const bad = new ShuffledBatches(SET, async () => { throw new Error('cannot decode'); }, { batchSize: 2, seed: 1, sampleShape: [1] });
    await assert.rejects(bad.batch(0), /cannot decode/);
    assert.throws(() => new ShuffledBatches(SET, async () => new Float32Array(1), { batchSize: 11, seed: 1, sampleShape: [1] }), /batch size 11 is larger than the 10/);
  });

  it('orderedBatches covers the set in order with a smaller last batch and a limit', async () => {
    const sizes: number[] = [];
    const seen: number[] = [];
    for await (const b of orderedBatches(SET, async (i) => new Float32Array([i]), [1], 4)) {
      sizes.push(b.labels.length);
      seen.push(...b.images);
    }
    assert.deepEqual(sizes, [4, 4, 2]);
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const limited: number[] = [];
    for await (const b of orderedBatches(SET, async (i) => new Float32Array([i]), [1], 4, 5)) limited.push(...b.images);
    // 5 of 10, evenly spaced: floor(i * 10 / 5)
    assert.deepEqual(limited, [0, 2, 4, 6, 8]);
  });
});
