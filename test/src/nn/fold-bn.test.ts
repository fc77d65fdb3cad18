import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { foldBatchNorm } from '../../../src/nn/fold-bn.ts';

describe('nn/fold-bn', () => {
  before(async () => {
    await initBackend();
    await tf.ready();
  });

  it('folds by hand: scale = gamma / sqrt(var + eps), bias = beta - mean * scale', () => {
    const before = tf.memory().numTensors;
    // eps = 1, var = [3, 3] -> sqrt(4) = 2; scale = [1/2, 2/2] = [0.5, 1]
    // weight [2, 3] * scale = [1, 3]; bias = [0.5 - 1*0.5, -1 - 0*1] = [0, -1]
    const t = [tf.tensor4d([2, 3], [1, 1, 1, 2]), tf.tensor1d([1, 2]), tf.tensor1d([0.5, -1]), tf.tensor1d([1, 0]), tf.tensor1d([3, 3])] as const;
    const { weight, bias } = foldBatchNorm(t[0], t[1], t[2], t[3], t[4], 1);
    assert.deepEqual(Array.from(weight.dataSync()), [1, 3]);
    assert.deepEqual(Array.from(bias.dataSync()), [0, -1]);
    // with a conv bias b = [4, 2]: bias = (b - mean) * scale + beta = [3*0.5 + 0.5, 2*1 - 1] = [2, 1]
    const withBias = foldBatchNorm(t[0], t[1], t[2], t[3], t[4], 1, tf.tensor1d([4, 2]));
    assert.deepEqual(Array.from(withBias.bias.dataSync()), [2, 1]);
    tf.dispose([...t, weight, bias, withBias.weight, withBias.bias]);
    assert.equal(tf.memory().numTensors, before + 1); // the conv-bias literal above
  });

  it('conv(x, W) + b equals eval-mode bn(conv(x, W)) on a 3x3 stride-2 conv', () => {
    const before = tf.memory().numTensors;
    const diff = tf.tidy(() => {
      const wave = (n: number, f: number, p: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f + p));
      const x = tf.tensor4d(wave(2 * 7 * 7 * 3, 0.3, 0), [2, 7, 7, 3]);
      const w = tf.tensor4d(wave(3 * 3 * 3 * 5, 0.7, 1), [3, 3, 3, 5]);
      const gamma = tf.tensor1d([0.5, 1.5, -1, 2, 1]);
      const beta = tf.tensor1d([0.1, -0.2, 0.3, 0, 1]);
      const mean = tf.tensor1d([0.2, -0.5, 1, 0, 0.3]);
      const variance = tf.tensor1d([1, 0.5, 2, 0.1, 4]);
      const eps = 1e-5;
      const reference = tf.batchNorm(tf.conv2d(x, w, 2, 'same'), mean, variance, beta, gamma, eps);
      const { weight, bias } = foldBatchNorm(w, gamma, beta, mean, variance, eps);
      const folded = tf.add(tf.conv2d(x, weight as tf.Tensor4D, 2, 'same'), bias);
      return tf.max(tf.abs(tf.sub(folded, reference))).dataSync()[0];
    });
    assert.ok(diff < 1e-5, `max abs diff ${diff}`);
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects BN parameters whose length is not the output channels', () => {
    const w = tf.zeros([3, 3, 2, 4]);
    const ok = tf.ones([4]) as tf.Tensor1D;
    const bad = tf.ones([3]) as tf.Tensor1D;
    assert.throws(() => foldBatchNorm(w, ok, ok, bad, ok, 1e-5), /bnMean must have shape \[4\].*got \[3\]/);
    tf.dispose([w, ok, bad]);
  });
});
