import assert from 'node:assert/strict';
import { batchedNms, iou, nms } from '../../../src/boxes/index.ts';
import { Rng } from '../../../src/random.ts';

const f = (...v: number[]) => Float32Array.from(v);

/** Brute force: repeatedly take the best remaining box and delete everything overlapping it. */
function referenceNms(boxes: Float32Array, scores: number[], thr: number): number[] {
  let left = scores.map((_, i) => i);
  const keep: number[] = [];
  while (left.length) {
    const best = left.reduce((a, b) => (scores[b] > scores[a] || (scores[b] === scores[a] && b < a) ? b : a));
    keep.push(best);
    left = left.filter((j) => j !== best && iou(boxes.subarray(4 * best, 4 * best + 4), boxes.subarray(4 * j, 4 * j + 4)) <= thr);
  }
  return keep;
}

describe('boxes/nms', () => {
  it('hand-computed: suppresses IoU > threshold only', () => {
    // b0 [0,0,10,10] 0.9; b1 [1,0,11,10] 0.8: IoU 90/110 = 0.818 > 0.5 -> dropped;
    // b2 [5,0,15,10] 0.7: IoU with b0 = 50/150 = 0.333 -> kept; b3 far away 0.95 -> kept first
    const boxes = f(0, 0, 10, 10, 1, 0, 11, 10, 5, 0, 15, 10, 100, 100, 110, 110);
    assert.deepEqual(Array.from(nms(boxes, [0.9, 0.8, 0.7, 0.95], 0.5)), [3, 0, 2]);
    // at threshold 0.3, b2's IoU 1/3 with b0 is above it -> dropped too
    assert.deepEqual(Array.from(nms(boxes, [0.9, 0.8, 0.7, 0.95], 0.3)), [3, 0]);
  });

  it('empty, one box, equal scores (stable by index)', () => {
    assert.deepEqual(Array.from(nms(new Float32Array(0), [], 0.5)), []);
    assert.deepEqual(Array.from(nms(f(0, 0, 1, 1), [0.3], 0.5)), [0]);
    assert.deepEqual(Array.from(nms(f(0, 0, 10, 10, 0, 0, 10, 10), [0.5, 0.5], 0.5)), [0]);
  });

  it('agrees with a brute-force reference on random boxes', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + rng.int(0, 60);
      const boxes = new Float32Array(4 * n);
      const scores: number[] = [];
      for (let i = 0; i < n; i++) {
        const x = rng.next() * 100, y = rng.next() * 100;
        boxes.set([x, y, x + rng.next() * 40, y + rng.next() * 40], 4 * i);
        scores.push(Math.round(rng.next() * 10) / 10); // many ties
      }
      for (const thr of [0.3, 0.5, 0.7]) assert.deepEqual(Array.from(nms(boxes, scores, thr)), referenceNms(boxes, scores, thr));
    }
  });

  it('batchedNms never suppresses across classes and equals per-class NMS', () => {
    const boxes = f(0, 0, 10, 10, 0, 0, 10, 10, 1, 0, 11, 10, 500, 500, 510, 510);
    const scores = [0.9, 0.8, 0.7, 0.6];
    // class 1: boxes 0, 2 (IoU 0.818) -> 0; class 2: boxes 1, 3 (disjoint) -> both
    assert.deepEqual(Array.from(batchedNms(boxes, scores, [1, 2, 1, 2], 0.5)), [0, 1, 3]);
    assert.deepEqual(Array.from(batchedNms(new Float32Array(0), [], [], 0.5)), []);
  });
});
