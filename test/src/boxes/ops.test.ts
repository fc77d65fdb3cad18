import assert from 'node:assert/strict';
import { area, clipBoxes, concatBoxes, iou, iouMatrix, removeSmallBoxes, selectBoxes, topK } from '../../../src/boxes/index.ts';

const f = (...v: number[]) => Float32Array.from(v);

describe('boxes/ops', () => {
  it('area: (x2 - x1) * (y2 - y1), degenerate boxes count 0', () => {
    // 10 x 20 = 200; zero width -> 0; inverted (x2 < x1) -> 0
    assert.deepEqual(Array.from(area(f(0, 0, 10, 20, 5, 5, 5, 9, 4, 0, 2, 3))), [200, 0, 0]);
    assert.equal(area(new Float32Array(0)).length, 0);
    assert.throws(() => area(f(1, 2, 3)), /multiple of 4/);
  });

  it('iouMatrix: hand-computed values, [M, N] row-major', () => {
    // a0 = [0,0,10,10] (area 100); b0 = [5,5,15,15]: inter 5*5 = 25, union 175 -> 1/7
    // b1 = [0,0,10,10]: 1; b2 = [20,20,30,30]: disjoint -> 0; b3 = [0,0,10,5]: inter 50, union 100 -> 0.5
    const m = iouMatrix(f(0, 0, 10, 10), f(5, 5, 15, 15, 0, 0, 10, 10, 20, 20, 30, 30, 0, 0, 10, 5));
    [1 / 7, 1, 0, 0.5].forEach((v, j) => assert.ok(Math.abs(m[j] - v) < 1e-6, `${j}: ${m[j]}`));
    // touching edges: intersection width 0 -> 0
    assert.equal(iou([0, 0, 10, 10], [10, 0, 20, 10]), 0);
  });

  it('iouMatrix: empty inputs and zero-area boxes give 0, never NaN', () => {
    assert.equal(iouMatrix(new Float32Array(0), f(0, 0, 1, 1)).length, 0);
    assert.equal(iouMatrix(f(0, 0, 1, 1), new Float32Array(0)).length, 0);
    assert.deepEqual(Array.from(iouMatrix(f(3, 3, 3, 3), f(3, 3, 3, 3))), [0]);
    // a point box inside a box: intersection 0 -> 0
    assert.deepEqual(Array.from(iouMatrix(f(5, 5, 5, 5), f(0, 0, 10, 10))), [0]);
  });

  it('clipBoxes clips to [0, W] x [0, H]; removeSmallBoxes keeps sides >= min', () => {
    assert.deepEqual(Array.from(clipBoxes(f(-5, -1, 50, 30, 10, 10, 20, 20), 25, 40)), [0, 0, 40, 25, 10, 10, 20, 20]);
    // widths/heights: 10x10 kept, 10x2 dropped, 16x16 kept at min 10 and dropped at 17
    const b = f(0, 0, 10, 10, 0, 0, 10, 2, 0, 0, 16, 16);
    assert.deepEqual(Array.from(removeSmallBoxes(b, 10)), [0, 2]);
    assert.deepEqual(Array.from(removeSmallBoxes(b, 17)), []);
    // per axis: width >= 10 and height >= 2 keeps all three; width >= 11, height >= 2 only the 16x16
    assert.deepEqual(Array.from(removeSmallBoxes(b, 10, 2)), [0, 1, 2]);
    assert.deepEqual(Array.from(removeSmallBoxes(b, 11, 2)), [2]);
  });

  it('topK is stable: equal scores keep index order', () => {
    assert.deepEqual(Array.from(topK([0.5, 0.9, 0.5, 0.1, 0.9], 4)), [1, 4, 0, 2]);
    assert.deepEqual(Array.from(topK([1, 2], 5)), [1, 0]);
    assert.deepEqual(Array.from(selectBoxes(concatBoxes(f(1, 2, 3, 4), f(5, 6, 7, 8)), [1])), [5, 6, 7, 8]);
  });
});
