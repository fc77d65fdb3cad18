import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { binRanges, roiPool } from '../../detectors/roi-pool.ts';
import { gradientCheck, randomMap, referenceRoiPool } from './roi-ops-helpers.ts';

describe('detectors/roi-pool', () => {
  before(async () => {
    await initBackend();
    await ensureGradients();
  });

  it('binRanges: Caffe rounding and floor/ceil bin edges', () => {
    // x in [8, 40] at scale 1/8: start round(1) = 1, end round(5) = 5, length 5, 2 bins of 2.5 cells:
    // bin 0 = [floor(0) + 1, ceil(2.5) + 1) = [1, 4), bin 1 = [floor(2.5) + 1, ceil(5) + 1) = [3, 6)
    assert.deepEqual(Array.from(binRanges(8, 40, 2, 10, 1 / 8)), [1, 4, 3, 6]);
    // clipped to the map (size 4): [3, 4) and [4, 4) (empty)
    assert.deepEqual(Array.from(binRanges(24, 56, 2, 4, 1 / 8)), [3, 4, 4, 4]);
    // C rounding is half away from zero: -0.5 -> -1 (Math.round would give -0)
    assert.deepEqual(Array.from(binRanges(-4, 4, 1, 4, 1 / 8)), [0, 2]);
  });

  it('hand-computed max over a 4x4 map in 2x2 bins', () => {
    // F = 0..15 row-major, RoI covering cells [0, 3]: each bin's max is its bottom-right cell
    const f = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i), [1, 4, 4, 1]);
    const out = roiPool(f, Float32Array.from([0, 0, 3, 3]), Int32Array.from([0]), { outputSize: 2, spatialScale: 1 });
    assert.deepEqual(Array.from(out.dataSync()), [5, 7, 13, 15]);
    tf.dispose([f, out]);
  });

  it('matches the brute-force Caffe loop (two images, empty bins)', () => {
    const boxes = [[3, 2, 40, 30], [-20, -15, 20, 25], [50, 10, 90, 70], [0, 0, 0, 0], [60, 60, 200, 200], [5, 5, 100, 100]];
    const batch = [0, 0, 0, 1, 1, 1];
    const m = randomMap([2, 6, 7, 3], 4);
    const f = tf.tensor4d(m.data, m.shape);
    const before = tf.memory().numTensors;
    const out = roiPool(f, Float32Array.from(boxes.flat()), Int32Array.from(batch), { outputSize: 3, spatialScale: 1 / 8 });
    const ref = referenceRoiPool(m, boxes, batch, 3, 1 / 8);
    const got = out.dataSync();
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(got[i] - ref[i]) < 1e-6, `[${i}] ${got[i]} vs ${ref[i]}`);
    out.dispose();
    assert.equal(tf.memory().numTensors, before);
    f.dispose();
  });

  it('gradient goes to the first argmax cell only (Caffe), also on ties', () => {
    // a constant 2x2 map pooled into one bin: every cell ties; Caffe's strict > picks cell (0, 0)
    const f = tf.ones([1, 2, 2, 1]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(roiPool(x as tf.Tensor4D, Float32Array.from([0, 0, 1, 1]), Int32Array.from([0]), { outputSize: 1, spatialScale: 1 })))(f);
    assert.deepEqual(Array.from(g.dataSync()), [1, 0, 0, 0]);
    tf.dispose([f, g]);
  });

  it('gradient w.r.t. the features equals central differences (argmax cells only)', () => {
    const m = randomMap([2, 5, 6, 2], 5);
    const boxes = Float32Array.from([4, 3, 30, 36, -6, 10, 44, 30, 10, 10, 26, 20]);
    const op = (f: tf.Tensor4D) => roiPool(f, boxes, Int32Array.from([0, 1, 1]), { outputSize: 2, spatialScale: 1 / 8 });
    const before = tf.memory().numTensors;
    // eps far below the gap between distinct random values, so no argmax flips
    const worst = gradientCheck(op, m, 1e-3, 6);
    assert.ok(worst < 2e-2, `max |analytic - numeric| = ${worst}`);
    assert.equal(tf.memory().numTensors, before);
  });
});
