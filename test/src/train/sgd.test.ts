import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Sgd, bnAndBiasNames } from '../../../src/train/sgd.ts';
import { BatchNorm2d, Linear, Layer } from '../../../src/nn/index.ts';
import { Rng } from '../../../src/random.ts';
import { useCpuBackend } from './cpu-backend.ts';

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

describe('train/sgd', () => {
  useCpuBackend();

  it('matches PyTorch SGD (momentum 0.9, weight decay 0.1) over two hand-computed steps', () => {
    const before = tf.memory().numTensors;
    const init = [tf.tensor1d([1, -2]), tf.tensor1d([3])];
    const w = tf.variable(init[0], true, 'sgd_test_w');
    const frozen = tf.variable(init[1], false, 'sgd_test_frozen');
    tf.dispose(init);
    const opt = new Sgd([['w', w], ['frozen', frozen]], { momentum: 0.9, weightDecay: 0.1 });
    // loss = 0.5*w0 + 1*w1, so grad = [0.5, 1] at every step.
    const step = (): void => {
      const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(w, tf.tensor1d([0.5, 1]))) as tf.Scalar, [w]);
      opt.apply(grads, 0.1);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    // d = g + wd*w = [0.5+0.1, 1-0.2] = [0.6, 0.8]; buf = d; w = [1-0.06, -2-0.08] = [0.94, -2.08]
    close(w.dataSync(), [0.94, -2.08]);
    close(opt.stateDict().get('w')!.dataSync(), [0.6, 0.8]);
    step();
    // d = [0.5+0.094, 1-0.208] = [0.594, 0.792]; buf = 0.9*[0.6, 0.8] + d = [1.134, 1.512]
    // w = [0.94-0.1134, -2.08-0.1512] = [0.8266, -2.2312]
    close(opt.stateDict().get('w')!.dataSync(), [1.134, 1.512]);
    close(w.dataSync(), [0.8266, -2.2312]);
    // the frozen parameter got no gradient: no update, no decay, no buffer
    close(frozen.dataSync(), [3]);
    assert.equal(opt.stateDict().has('frozen'), false);
    opt.dispose();
    w.dispose();
    frozen.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('skips decay for names in noDecay', () => {
    const w = tf.variable(tf.tensor1d([2]), true, 'sgd_test_nodecay');
    const opt = new Sgd([['bn.bias', w]], { momentum: 0.9, weightDecay: 0.5, noDecay: new Set(['bn.bias']) });
    const g = tf.tensor1d([1]);
    opt.apply({ [w.name]: g }, 0.1);
    // w = 2 - 0.1*1 = 1.9 (decay 0.5*2 = 1 would have given 1.8)
    close(w.dataSync(), [1.9]);
    tf.dispose([g, w]);
    opt.dispose();
  });

  it('restores momentum from a state dict and rejects unknown names', () => {
    const w = tf.variable(tf.tensor1d([1]), true, 'sgd_test_restore');
    const opt = new Sgd([['w', w]], { momentum: 0.5, weightDecay: 0 });
    const buf = tf.tensor1d([2]);
    opt.loadStateDict(new Map([['w', buf]]));
    buf.dispose();
    const g = tf.tensor1d([1]);
    opt.apply({ [w.name]: g }, 1);
    // buf = 0.5*2 + 1 = 2; w = 1 - 2 = -1
    close(w.dataSync(), [-1]);
    const bad = tf.tensor1d([0]);
    assert.throws(() => opt.loadStateDict(new Map([['nope', bad]])), /'nope' is not a parameter/);
    tf.dispose([g, w, bad]);
    opt.dispose();
  });

  it('bnAndBiasNames lists BN affine parameters and biases, not weights', () => {
    class Net extends Layer {
      fc = this.child('fc', new Linear(2, 2, new Rng(1)));
      bn = this.child('bn', new BatchNorm2d(2));
      forward(x: tf.Tensor): tf.Tensor {
        return this.bn.forward(this.fc.forward(x));
      }
    }
    const net = new Net();
    assert.deepEqual([...bnAndBiasNames(net)].sort(), ['bn.bias', 'bn.weight', 'fc.bias']);
    net.dispose();
  });
});
