import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, NamedSequential, Sequential, ReLU } from '../../../src/nn/index.ts';
import { Rng } from '../../../src/random.ts';

describe('nn layers', () => {
  before(async () => {
    await initBackend();
  });

  it('initialisation: He normal convs and PyTorch-uniform linears, one draw of the parent Rng per tensor, seeded', () => {
    const rng = new Rng(11);
    const conv = new Conv2d(64, 64, 3, { bias: true }, rng);
    const afterConv = new Rng(11);
    afterConv.seed(); // the weight's one draw (the bias is zeros)
    assert.equal(rng.state, afterConv.state);
    // N(0, 2 / (3 * 3 * 64)): std 0.0589 over 36864 weights (standard error of the std ~0.4%)
    const w = conv.weight.dataSync() as Float32Array;
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    assert.ok(Math.abs(std / Math.sqrt(2 / 576) - 1) < 0.02, `std ${std}`);
    assert.deepEqual(new Conv2d(64, 64, 3, {}, new Rng(11)).weight.dataSync(), w);
    // Linear(100, 50): U(-0.1, 0.1) for weight and bias, two draws
    const fc = new Linear(100, 50, rng);
    afterConv.seed();
    afterConv.seed();
    assert.equal(rng.state, afterConv.state);
    const fw = fc.weight.dataSync() as Float32Array;
    assert.ok(fw.every((v) => Math.abs(v) <= 0.1) && Math.max(...fw) > 0.099 && Math.min(...fw) < -0.099);
    conv.dispose();
    fc.dispose();
  });

  it('Conv2d pads symmetrically like PyTorch (3x3, stride 2, padding 1 on 4x4 -> 2x2)', () => {
    const conv = new Conv2d(1, 1, 3, { stride: 2, padding: 1 }, new Rng(1));
    conv.weight.assign(tf.ones([3, 3, 1, 1]));
    // input 1..16 row-major; output (0,0) sums rows 0-1, cols 0-1 (the padded ring adds 0):
    // 1+2+5+6 = 14; output (0,1) covers cols 1-3 of rows 0-1: 2+3+4+6+7+8 = 30.
    const x = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
    const y = conv.forward(x);
    assert.deepEqual(y.shape, [1, 2, 2, 1]);
    // (1,0): rows 1-3, cols 0-1: 5+6+9+10+13+14 = 57; (1,1): rows 1-3, cols 1-3 = 6+7+8+10+11+12+14+15+16 = 99
    assert.deepEqual(Array.from(y.dataSync()), [14, 30, 57, 99]);
    tf.dispose([x, y]);
    conv.dispose();
  });

  it('BatchNorm2d: batch statistics in training, PyTorch running-stat update, affine map in eval', () => {
    const bn = new BatchNorm2d(1, { momentum: 0.1 });
    const x = tf.tensor4d([1, 2, 3, 6], [4, 1, 1, 1]);
    // mean 3, biased var (4+1+0+9)/4 = 3.5, unbiased 14/3
    const y = bn.forward(x);
    const expected = [1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5));
    Array.from(y.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5));
    assert.ok(Math.abs(bn.runningMean.dataSync()[0] - 0.3) < 1e-6); // 0.9*0 + 0.1*3
    assert.ok(Math.abs(bn.runningVar.dataSync()[0] - (0.9 + 0.1 * 14 / 3)) < 1e-6);
    bn.eval();
    const z = bn.forward(tf.tensor4d([0.3], [1, 1, 1, 1]));
    assert.ok(Math.abs(z.dataSync()[0]) < 1e-6); // (x - running_mean) / sqrt(...) = 0
    tf.dispose([x, y, z]);
    bn.dispose();
  });

  it('state dict uses PyTorch names, counts parameters, and does not leak', () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(0);
    const net = new Sequential([new Conv2d(3, 8, 3, { padding: 1 }, rng), new BatchNorm2d(8), new ReLU(), new MaxPool2d(3, 2, 1)]);
    const names = [...net.stateDict().keys()];
    assert.deepEqual(names, ['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var']);
    assert.equal(net.numParameters(), 3 * 3 * 3 * 8 + 8 + 8);
    const x = tf.zeros([2, 8, 8, 3]);
    const y = net.forward(x);
    assert.deepEqual(y.shape, [2, 4, 4, 8]);
    tf.dispose([x, y]);
    const fc = new Linear(4, 2, rng);
    const state = new Map<string, tf.Tensor>([['weight', tf.ones([4, 2])], ['bias', tf.zeros([2])]]);
    fc.loadStateDict(state);
    const ones = tf.ones([1, 4]);
    const out = fc.forward(ones);
    assert.deepEqual(Array.from(out.dataSync()), [4, 4]);
    const wrong = tf.ones([2, 4]);
    assert.throws(() => fc.loadStateDict(new Map([['weight', wrong]]), false), /weight: expected shape \[4,2\]/);
    tf.dispose([...state.values(), ones, out, wrong]);
    fc.dispose();
    net.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
  it('AdaptiveAvgPool2d averages PyTorch bins and spreads small maps; NamedSequential names; Dropout only in training', () => {
    const before = tf.memory().numTensors;
    // 3x3 -> 2x2: bins rows/cols [0,1] and [1,2] (floor(i*3/2) .. ceil((i+1)*3/2)-1).
    // input 1..9 row-major: (0,0) = (1+2+4+5)/4 = 3, (0,1) = (2+3+5+6)/4 = 4, (1,0) = 6, (1,1) = 7
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const pooled = new AdaptiveAvgPool2d(2).forward(x);
    assert.deepEqual(Array.from(pooled.dataSync()), [3, 4, 6, 7]);
    // 1x1 -> 2x2 replicates (torchvision VGG on a small input)
    const one = tf.tensor4d([5, -1], [1, 1, 1, 2]);
    const spread = new AdaptiveAvgPool2d(2).forward(one);
    assert.deepEqual(Array.from(spread.dataSync()), [5, -1, 5, -1, 5, -1, 5, -1]);
    const fc = new Linear(2, 2, new Rng(0));
    const named = new NamedSequential([['fc6', fc], ['relu6', new ReLU()]]);
    assert.deepEqual([...named.stateDict().keys()], ['fc6.weight', 'fc6.bias']);
    assert.equal(named.getModule('fc6'), fc);
    const drop = new Dropout(0.5, new Rng(1));
    const ones = tf.ones([1, 1000]);
    const dropped = drop.forward(ones);
    const kept = Array.from(dropped.dataSync()).filter((v) => v !== 0);
    assert.ok(kept.every((v) => v === 2) && kept.length > 400 && kept.length < 600); // 1 / (1 - 0.5)
    drop.eval();
    const same = drop.forward(ones);
    assert.deepEqual(Array.from(same.dataSync()), Array.from(ones.dataSync()));
    tf.dispose([x, pooled, one, spread, ones, dropped, same]);
    named.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
