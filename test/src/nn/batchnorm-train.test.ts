import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../../src/backend/index.ts';
import { batchNormTrain } from '../../../src/nn/batchnorm-train.ts';
import { BatchNorm2d } from '../../../src/nn/index.ts';
import { requireNative } from '../../helpers/native.ts';

/** Deterministic, non-symmetric test values (no RNG state shared with other tests). */
function wave(shape: number[], f: number, phase = 0, scale = 1, offset = 0): tf.Tensor {
  const n = tf.util.sizeFromShape(shape);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => offset + scale * Math.sin(i * f + phase)), shape);
}

/** The formulation BatchNorm2d used before the closed-form backward: moments + broadcast ops, autodiff backward. */
function reference(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

/** max |got - want| <= 1e-4 * max |want| (relative to the tensor's scale: dx sums to 0 per channel). */
function assertClose(got: tf.Tensor, want: tf.Tensor, what: string): void {
  assert.deepEqual(got.shape, want.shape, what);
  const g = got.dataSync();
  const w = want.dataSync();
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    scale = Math.max(scale, Math.abs(w[i]));
    worst = Math.max(worst, Math.abs(g[i] - w[i]));
  }
  assert.ok(worst <= 1e-4 * Math.max(scale, 1e-6), `${what}: max diff ${worst}, scale ${scale}`);
}

const SHAPES: number[][] = [[2, 5, 5, 3], [4, 3, 3, 8], [6, 4]];

describe('batchNormTrain (closed-form BN backward)', function () {
  let previous: string;
  before(async () => {
    await initBackend();
    previous = tf.getBackend();
  });
  after(async () => {
    await tf.setBackend(previous);
  });

  it('matches a hand-computed gradient on x = [1, 2, 3, 6], dy = [1, 0, 0, 0]', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([1, 2, 3, 6], [4, 1]);
    const gamma = tf.ones([1]);
    const beta = tf.zeros([1]);
    const dy = tf.tensor2d([1, 0, 0, 0], [4, 1]);
    const [dx, dg, db] = tf.grads((a, g, b) => batchNormTrain(a, g, b, 0))([x, gamma, beta], dy);
    // mean 3, var 3.5, invStd = 1/sqrt(3.5) = 0.534522, xhat = [-2, -1, 0, 3] * invStd.
    // dbeta = sum(dy) = 1; dgamma = sum(dy * xhat) = -2 * 0.534522 = -1.069045.
    // dx_0 = invStd * (1 - 1/4 - xhat_0 * dgamma / 4) = 0.534522 * (0.75 - 4/3.5/4) = 0.534522 * 0.464286 = 0.248171
    // dx_3 = invStd * (0 - 1/4 - xhat_3 * dgamma / 4) = 0.534522 * (-0.25 + 6/3.5/4) = 0.534522 * 0.178571 = 0.095450
    assert.ok(Math.abs(db.dataSync()[0] - 1) < 1e-6);
    assert.ok(Math.abs(dg.dataSync()[0] + 1.069045) < 1e-5);
    assert.ok(Math.abs(dx.dataSync()[0] - 0.248171) < 1e-5);
    assert.ok(Math.abs(dx.dataSync()[3] - 0.095450) < 1e-5);
    tf.dispose([x, gamma, beta, dy, dx, dg, db]);
    assert.equal(tf.memory().numTensors, before);
  });

  // native (when built here): the fused kernels of src/backend/native/addon/bn.cc
  for (const backend of ['native', 'wasm', 'cpu']) {
    for (const shape of SHAPES) {
      it(`${backend} [${shape}]: forward and gradients (x, gamma, beta) equal the moments formulation`, async function () {
        if (backend === 'native') await requireNative(this);
        await tf.setBackend(backend);
        const c = shape[shape.length - 1];
        const x = wave(shape, 0.37, 0.1, 2, 0.5);
        const gamma = wave([c], 1.3, 0.2, 0.5, 1);
        const beta = wave([c], 0.7, 0.4, 0.3);
        const dy = wave(shape, 0.91, 0.3);
        const before = tf.memory().numTensors;
        const f = (eps: number, bn: typeof reference) => tf.tidy(() => {
          const y = bn(x, gamma, beta, eps);
          const grads = tf.grads((a, g, b) => bn(a, g, b, eps))([x, gamma, beta], dy);
          return [y, ...grads];
        });
        const got = f(1e-5, batchNormTrain);
        const want = f(1e-5, reference);
        ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, i) => assertClose(got[i], want[i], `${backend} [${shape}] ${what}`));
        tf.dispose([...got, ...want]);
        assert.equal(tf.memory().numTensors, before);
        tf.dispose([x, gamma, beta, dy]);
      });
    }

    it(`${backend}: BatchNorm2d training step through tf.variableGrads; running statistics as PyTorch`, async function () {
      if (backend === 'native') await requireNative(this);
      await tf.setBackend(backend);
      const bn = new BatchNorm2d(3, { momentum: 0.1 });
      bn.weight.assign(tf.tensor1d([0.5, 1, 2]));
      bn.bias.assign(tf.tensor1d([0.1, 0, -0.2]));
      const x = wave([2, 4, 4, 3], 0.53, 0.2, 3, 1);
      const w = wave([2, 4, 4, 3], 0.29);
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(bn.forward(x), w)) as tf.Scalar, [bn.weight, bn.bias]);
      const want = tf.tidy(() => {
        const g = tf.grads((g, b) => tf.sum(tf.mul(reference(x, g, b, bn.eps), w)))([bn.weight, bn.bias]);
        return [tf.sum(tf.mul(reference(x, bn.weight, bn.bias, bn.eps), w)), ...g];
      });
      assertClose(value, want[0], `${backend} loss`);
      assertClose(grads[bn.weight.name], want[1], `${backend} dweight`);
      assertClose(grads[bn.bias.name], want[2], `${backend} dbias`);
      // running = 0.9 * initial + 0.1 * batch stat; variance unbiased over M = 32 positions.
      const stats = tf.tidy(() => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return [tf.mul(mean, 0.1), tf.add(0.9, tf.mul(variance, 0.1 * 32 / 31))];
      });
      assertClose(bn.runningMean, stats[0], `${backend} running mean`);
      assertClose(bn.runningVar, stats[1], `${backend} running var`);
      tf.dispose([value, ...Object.values(grads), ...want, ...stats]);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, w]);
      bn.dispose();
    });
  }
});
