import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { fastRcnnLoss, rpnLoss, sigmoidCrossEntropy, smoothL1 } from '../../detectors/losses.ts';

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

describe('detectors/losses', () => {
  before(async () => {
    await initBackend();
    await ensureGradients();
  });

  it('smoothL1: quadratic below beta, linear above; gradient clipped to +-1', () => {
    const before = tf.memory().numTensors;
    // beta 1: 0.5 -> 0.5 * 0.25 = 0.125; -2 -> 2 - 0.5 = 1.5. beta 1/9: 0.1 -> 0.5 * 0.01 * 9 = 0.045; 1 -> 1 - 1/18
    const a = tf.tensor1d([0.5, -2]);
    const b = tf.tensor1d([0.1, 1]);
    const ya = tf.tidy(() => smoothL1(a, 1).dataSync());
    const yb = tf.tidy(() => smoothL1(b, 1 / 9).dataSync());
    close(ya[0], 0.125);
    close(ya[1], 1.5);
    close(yb[0], 0.045);
    close(yb[1], 1 - 1 / 18);
    // d/dx: x / beta inside (0.5), sign(x) outside (-1)
    const g = tf.grad((x: tf.Tensor) => tf.sum(smoothL1(x, 1)))(a);
    assert.deepEqual(Array.from(g.dataSync()), [0.5, -1]);
    tf.dispose([a, b, g]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('sigmoidCrossEntropy: log 2 at logit 0, stable at large logits', () => {
    const y = tf.tidy(() => sigmoidCrossEntropy(tf.tensor1d([0, 2, 100, -100]), tf.tensor1d([1, 0, 1, 1])).dataSync());
    close(y[0], Math.log(2));
    close(y[1], Math.log(1 + Math.exp(2)));
    close(y[2], 0);
    close(y[3], 100, 1e-3);
  });

  it('rpnLoss: averaged over sampled anchors, box loss over positives only', () => {
    // labels [1, 0, -1]: sampled 2. cls = (log 2 + log 2) / 2; box = smoothL1(0.5, 1/9) / 2 = (0.5 - 1/18) / 2
    const r = tf.tidy(() => {
      const l = rpnLoss(tf.tensor1d([0, 0, 5]), tf.tensor2d([0.5, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9], [3, 4]), Int8Array.from([1, 0, -1]), new Float32Array(12), 1 / 9);
      return [l.cls.dataSync()[0], l.box.dataSync()[0]];
    });
    close(r[0], Math.log(2));
    close(r[1], (0.5 - 1 / 18) / 2);
    // nothing sampled (a degenerate batch): zeros, not NaN
    const z = tf.tidy(() => {
      const l = rpnLoss(tf.tensor1d([1]), tf.tensor2d([1, 1, 1, 1], [1, 4]), Int8Array.from([-1]), new Float32Array(4), 1 / 9);
      return [l.cls.dataSync()[0], l.box.dataSync()[0]];
    });
    assert.deepEqual(z, [0, 0]);
  });

  it('fastRcnnLoss: softmax CE averaged over RoIs, smooth L1 of the labelled class / R', () => {
    // 2 RoIs, K = 2 (3 columns), zero logits -> CE = log 3 each. RoI 0 is class 2 with deltas
    // [1, 0, 0, 0] in its class-2 slot (target 0) -> smoothL1(1, 1) = 0.5; RoI 1 is background.
    // Other slots hold 5s that must be ignored. box = 0.5 / 2 = 0.25
    const deltas = [5, 5, 5, 5, 5, 5, 5, 5, 1, 0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5];
    const r = tf.tidy(() => {
      const l = fastRcnnLoss(tf.zeros([2, 3]), tf.tensor2d(deltas, [2, 12]), Int32Array.from([2, 0]), new Float32Array(8), 1);
      return [l.cls.dataSync()[0], l.box.dataSync()[0]];
    });
    close(r[0], Math.log(3));
    close(r[1], 0.25);
  });
});
