/** Stable typed-array sorts: numpy mergesort tie order on descending scores. */
import assert from 'node:assert/strict';
import { countingSortStable, iota, sortByValueDesc } from '../../../src/eval/sort.ts';

describe('eval/sort', () => {
  it('sortByValueDesc is stable, handles negatives, -0 == 0 and tiny values', () => {
    const v = Float64Array.of(0.5, 0.9, 0.5, -1, 0.9, -0, 0, 1e-300, -1e-300, Infinity);
    // descending: Inf(9), 0.9(1, 4), 0.5(0, 2), 1e-300(7), -0 and 0 tie in input order (5, 6), -1e-300(8), -1(3)
    assert.deepEqual([...sortByValueDesc(iota(10), v)], [9, 1, 4, 0, 2, 7, 5, 6, 8, 3]);
    // input order decides ties
    assert.deepEqual([...sortByValueDesc(Int32Array.of(4, 1), v)], [4, 1]);
    assert.deepEqual([...sortByValueDesc(new Int32Array(0), v)], []);
  });

  it('sortByValueDesc agrees with a stable comparison sort on random data with many ties', () => {
    let s = 9;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const v = Float64Array.from({ length: 5000 }, () => Math.round(rand() * 50) / 50 - 0.3);
    const want = [...iota(5000)].sort((a, b) => v[b] - v[a] || a - b);
    assert.deepEqual([...sortByValueDesc(iota(5000), v)], want);
  });

  it('countingSortStable orders by key keeping input order', () => {
    const key = Int32Array.of(2, 0, 1, 0, 2);
    assert.deepEqual([...countingSortStable(iota(5), key, 3)], [1, 3, 2, 0, 4]);
  });
});
