import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { axisWeights, roiAlign } from '../../detectors/roi-align.ts';
import { gradientCheck, randomMap, referenceRoiAlign } from './roi-ops-helpers.ts';

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

describe('detectors/roi-align', () => {
  before(async () => {
    await initBackend();
    await ensureGradients();
  });

  it('axisWeights: hand-computed bilinear weights of one bin', () => {
    // start 0.5, length 2, 1 bin, 1 sample: the point 0.5 + 1 = 1.5 lies halfway between rows 1 and 2
    assert.deepEqual(Array.from(axisWeights(0.5, 2, 1, 1, 4)), [0, 0.5, 0.5, 0]);
    // 2 samples at 1.0 and 2.0 -> rows 1 and 2 at 1/2 each
    assert.deepEqual(Array.from(axisWeights(0.5, 2, 1, 2, 4)), [0, 0.5, 0.5, 0]);
    // a point beyond the map (v > size) contributes nothing; v in [-1, 0] clamps to row 0
    assert.deepEqual(Array.from(axisWeights(4.5, 2, 1, 1, 4)), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(axisWeights(-1, 1, 1, 1, 4)), [1, 0, 0, 0]);
  });

  it('a constant map pools to the constant; a ramp pools to the bin centre', () => {
    // F[y, x] = x on a 1x8x8x1 map, stride 1: the RoI [2, 0, 6, 4] in 2x2 bins has bin centres x = 3, 5
    const ramp = tf.tensor4d(Array.from({ length: 64 }, (_, i) => i % 8), [1, 8, 8, 1]);
    const out = roiAlign(ramp, Float32Array.from([2, 0, 6, 4]), Int32Array.from([0]), { outputSize: 2, spatialScale: 1, samplingRatio: 2, aligned: false });
    assert.deepEqual(Array.from(out.dataSync()), [3, 5, 3, 5]);
    tf.dispose([ramp, out]);
  });

  it('matches the brute-force torchvision loop (two images, both axis orders, aligned, adaptive)', () => {
    const boxes = [[3, 2, 40, 30], [-10, -5, 20, 25], [50, 10, 90, 70], [0, 0, 0, 0], [12, 18, 13, 19], [5, 5, 100, 100]];
    const batch = [0, 0, 0, 1, 1, 1];
    for (const shape of [[2, 6, 7, 3], [2, 8, 5, 2]] as Array<[number, number, number, number]>) {
      const m = randomMap(shape, 1);
      const f = tf.tensor4d(m.data, m.shape);
      for (const [sampling, aligned] of [[2, false], [0, false], [2, true], [1, true]] as Array<[number, boolean]>) {
        const before = tf.memory().numTensors;
        const out = roiAlign(f, Float32Array.from(boxes.flat()), Int32Array.from(batch), { outputSize: 3, spatialScale: 1 / 8, samplingRatio: sampling, aligned });
        assert.deepEqual(out.shape, [6, 3, 3, shape[3]]);
        const d = maxDiff(out.dataSync(), referenceRoiAlign(m, boxes, batch, 3, 1 / 8, sampling, aligned));
        assert.ok(d < 1e-5, `shape ${shape} sampling ${sampling} aligned ${aligned}: max diff ${d}`);
        out.dispose();
        assert.equal(tf.memory().numTensors, before);
      }
      f.dispose();
      const empty = roiAlign(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D, new Float32Array(0), new Int32Array(0), { outputSize: 2, spatialScale: 1, samplingRatio: 2, aligned: false });
      assert.deepEqual(empty.shape, [0, 2, 2, 2]);
      empty.dispose();
    }
    assert.throws(() => roiAlign(tf.zeros([1, 4, 4, 1]) as tf.Tensor4D, Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1]), Int32Array.from([1, 0]), { outputSize: 2, spatialScale: 1, samplingRatio: 2, aligned: false }), /sorted/);
  });

  it('gradient w.r.t. the features equals central differences', () => {
    const m = randomMap([2, 5, 6, 2], 2);
    const boxes = Float32Array.from([4, 3, 30, 36, -6, 10, 44, 30, 10, 10, 26, 20]);
    const op = (f: tf.Tensor4D) => roiAlign(f, boxes, Int32Array.from([0, 1, 1]), { outputSize: 2, spatialScale: 1 / 8, samplingRatio: 2, aligned: false });
    const before = tf.memory().numTensors;
    const worst = gradientCheck(op, m, 1e-2, 3);
    assert.ok(worst < 2e-3, `max |analytic - numeric| = ${worst}`);
    assert.equal(tf.memory().numTensors, before);
  });
});
