import assert from 'node:assert/strict';
import { BELOW_LOW, BETWEEN, Matcher } from '../../../src/boxes/index.ts';

const f = (...v: number[]) => Float32Array.from(v);

describe('boxes/matcher', () => {
  // GT g0 = [0,0,10,10]. Predictions: p0 = g0 (IoU 1), p1 = [0,0,10,6] (IoU 0.6),
  // p2 = [0,0,10,2] (IoU 0.2), p3 far away (0).
  const gt = f(0, 0, 10, 10);
  const preds = f(0, 0, 10, 10, 0, 0, 10, 6, 0, 0, 10, 2, 50, 50, 60, 60);

  it('thresholds: >= high matched, < low BELOW_LOW, between BETWEEN', () => {
    const { matches, maxIou } = new Matcher({ high: 0.7, low: 0.3 }).match(gt, preds);
    assert.deepEqual(Array.from(matches), [0, BETWEEN, BELOW_LOW, BELOW_LOW]);
    assert.ok(Math.abs(maxIou[1] - 0.6) < 1e-6);
  });

  it('allowLowQualityMatches: each GT keeps its best predictions (ties included)', () => {
    // g1 = [20,20,30,30] overlaps nothing above 0.7; its best predictions are q0 and q1
    // ([20,20,30,25], IoU 0.5 each, tied) -> both matched to g1 although 0.5 < 0.7.
    const gt2 = f(0, 0, 10, 10, 20, 20, 30, 30);
    const preds2 = f(20, 20, 30, 25, 20, 25, 30, 30, 0, 0, 10, 10, 0, 0, 10, 2);
    const plain = new Matcher({ high: 0.7, low: 0.3 }).match(gt2, preds2);
    assert.deepEqual(Array.from(plain.matches), [BETWEEN, BETWEEN, 0, BELOW_LOW]);
    const low = new Matcher({ high: 0.7, low: 0.3, allowLowQualityMatches: true }).match(gt2, preds2);
    assert.deepEqual(Array.from(low.matches), [1, 1, 0, BELOW_LOW]);
  });

  it('no GT boxes: everything BELOW_LOW; no predictions: empty', () => {
    const r = new Matcher({ high: 0.7, low: 0.3, allowLowQualityMatches: true }).match(new Float32Array(0), preds);
    assert.deepEqual(Array.from(r.matches), [BELOW_LOW, BELOW_LOW, BELOW_LOW, BELOW_LOW]);
    assert.deepEqual(Array.from(r.bestGt), [-1, -1, -1, -1]);
    assert.equal(new Matcher({ high: 0.5, low: 0.5 }).match(gt, new Float32Array(0)).matches.length, 0);
    assert.throws(() => new Matcher({ high: 0.3, low: 0.7 }), /low <= high/);
  });
});
