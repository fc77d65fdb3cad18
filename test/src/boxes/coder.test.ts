import assert from 'node:assert/strict';
import { BBOX_XFORM_CLIP, BoxCoder } from '../../../src/boxes/index.ts';
import { Rng } from '../../../src/random.ts';

const f = (...v: number[]) => Float32Array.from(v);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

describe('boxes/coder', () => {
  it('encode: hand-computed deltas, weights (1,1,1,1) and (10,10,5,5)', () => {
    // reference [0,0,10,20]: w 10, h 20, centre (5, 10); gt [2,4,22,24]: w 20, h 20, centre (12, 14)
    // dx = 7/10 = 0.7, dy = 4/20 = 0.2, dw = log(2) = 0.6931, dh = log(1) = 0
    close(new BoxCoder().encode(f(2, 4, 22, 24), f(0, 0, 10, 20)), [0.7, 0.2, Math.log(2), 0]);
    // head weights multiply: 7, 2, 5 log 2 = 3.4657, 0
    close(new BoxCoder([10, 10, 5, 5]).encode(f(2, 4, 22, 24), f(0, 0, 10, 20)), [7, 2, 5 * Math.log(2), 0]);
  });

  it('decode inverts encode (random boxes, both weightings)', () => {
    const rng = new Rng(7);
    const n = 50;
    const refs = new Float32Array(4 * n);
    const gts = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const rx = rng.next() * 500, ry = rng.next() * 500;
      refs.set([rx, ry, rx + 8 + rng.next() * 200, ry + 8 + rng.next() * 200], 4 * i);
      const gx = rx + (rng.next() - 0.5) * 100, gy = ry + (rng.next() - 0.5) * 100;
      gts.set([gx, gy, gx + 4 + rng.next() * 300, gy + 4 + rng.next() * 300], 4 * i);
    }
    for (const coder of [new BoxCoder([1, 1, 1, 1]), new BoxCoder([10, 10, 5, 5])]) {
      close(coder.decode(coder.encode(gts, refs), refs), gts, 1e-2);
    }
  });

  it('decode clamps dw, dh at log(1000/16) and handles K boxes per reference', () => {
    // reference [0,0,16,16]: dw = 100 is clamped -> w = 16 * 1000/16 = 1000 around centre 8
    const out = new BoxCoder().decode(f(0, 0, 100, 0, 0, 0, 0, 0), f(0, 0, 16, 16));
    assert.ok(Math.abs(BBOX_XFORM_CLIP - Math.log(62.5)) < 1e-12);
    close(out, [8 - 500, 0, 8 + 500, 16, 0, 0, 16, 16], 1e-2);
    assert.equal(new BoxCoder().decode(new Float32Array(0), new Float32Array(0)).length, 0);
    assert.throws(() => new BoxCoder().decode(f(1, 2, 3), f(0, 0, 1, 1)), /deltas/);
  });
});
