/** numpy's linspace and pairwise summation, reproduced bit for bit. */
import assert from 'node:assert/strict';
import { linspace, npMean, pairwiseSum, roundHalfEven } from '../../../src/eval/numpy.ts';

describe('eval/numpy', () => {
  it('linspace builds i * step + start, last value = stop', () => {
    // step = 0.44999999999999996 / 9 = 0.049999999999999996; 8 * step + 0.5 = 0.8999999999999999
    const iou = linspace(0.5, 0.95, 10);
    assert.equal(iou[8], 0.8999999999999999);
    assert.equal(iou[9], 0.95);
    const rec = linspace(0, 1, 101);
    // 0.01 * i is one ulp above i / 100 for these i (eval-golden README)
    for (const i of [35, 41, 47, 57, 69, 70, 82, 83, 94, 95]) assert.notEqual(rec[i], i / 100, String(i));
    assert.equal(rec[35], 0.35000000000000003);
    assert.equal(rec[50], 0.5);
    assert.deepEqual(linspace(2, 2, 3), [2, 2, 2]); // step 0: (i / div) * delta + start
    assert.deepEqual(linspace(0, 1, 1), [0]);
  });

  it('roundHalfEven is np.round', () => {
    assert.equal(roundHalfEven((0.95 - 0.5) / 0.05), 9); // 8.999999999999998
    assert.equal(roundHalfEven(2.5), 2);
    assert.equal(roundHalfEven(3.5), 4);
  });

  it('pairwiseSum adds like numpy: 8 accumulators, not left to right', () => {
    // [1e16, 1, 1, 1, 1, 1, 1, 1]: ((1e16 + 1) + (1 + 1)) + ((1 + 1) + (1 + 1))
    // 1e16 + 1 is a tie and rounds to 1e16 (even), + 2 -> 1e16 + 2, + 4 -> 1e16 + 6.
    // Left to right every + 1 is lost: 1e16.
    const a = [1e16, 1, 1, 1, 1, 1, 1, 1];
    assert.equal(pairwiseSum(a, 0, 8), 1e16 + 6);
    assert.equal(a.reduce((x, y) => x + y, 0), 1e16);
    assert.equal(pairwiseSum([1, 2, 3], 0, 3), 6);
    // above 128 values the range is halved at a multiple of 8
    const ones = new Float64Array(1000).fill(0.1);
    assert.equal(pairwiseSum(ones, 0, 1000), pairwiseSum(ones, 0, 496) + pairwiseSum(ones, 496, 504));
    assert.equal(npMean([1, 2, 3, 4], 4), 2.5);
  });
});
