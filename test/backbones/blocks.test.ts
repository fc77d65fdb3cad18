import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { Rng } from '../../src/random.ts';
import { BasicBlock, Bottleneck, ZeroPadShortcut } from '../../backbones/blocks.ts';
import { countMacs } from '../../backbones/flops.ts';

describe('backbones/blocks', () => {
  before(async () => {
    await initBackend();
  });

  it('option A shortcut: x[:, :, ::2, ::2] then zero channels on both sides (akamaster placement)', () => {
    const before = tf.memory().numTensors;
    // NHWC 3x3 map, 2 channels: value = 10*(row*3+col) + channel. ::2 keeps rows/cols 0 and 2.
    const vals: number[] = [];
    for (let p = 0; p < 9; p++) vals.push(10 * p, 10 * p + 1);
    const x = tf.tensor4d(vals, [1, 3, 3, 2]);
    const sc = new ZeroPadShortcut(2, 4, 2);
    assert.equal(sc.padBefore, 1); // (4 - 2) / 2 = planes/4 with planes = 4
    const y = sc.forward(x);
    assert.deepEqual(y.shape, [1, 2, 2, 4]);
    // kept pixels p = 0, 2, 6, 8 -> [0, p0c0, p0c1, 0] ...
    assert.deepEqual(Array.from(y.dataSync()), [0, 0, 1, 0, 0, 20, 21, 0, 0, 60, 61, 0, 0, 80, 81, 0]);
    // 16 -> 32 channels, stride 2: 8 zero channels before and 8 after, as F.pad(..., planes//4, planes//4)
    const sc2 = new ZeroPadShortcut(16, 32, 2);
    assert.deepEqual([sc2.padBefore, sc2.padAfter], [8, 8]);
    assert.deepEqual(countMacs(sc2, { h: 32, w: 32, c: 16 }), { macs: 0, shape: { h: 16, w: 16, c: 32 } });
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('option A passes gradients through the subsampling (pad + reshape + slice)', () => {
    const sc = new ZeroPadShortcut(1, 3, 2);
    const x = tf.ones([1, 4, 4, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(sc.forward(t)))(x);
    // d/dx of the sum of the kept pixels (rows/cols 0 and 2): 1 there, 0 elsewhere
    assert.deepEqual(Array.from(g.dataSync()), [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    tf.dispose([x, g]);
  });

  it('basic block: identity shortcut adds the input, plain block does not', () => {
    const rng = new Rng(3);
    const res = new BasicBlock(4, 4, 1, { option: 'B', name: 'downsample' }, rng).eval();
    const plain = new BasicBlock(4, 4, 1, { option: 'none', name: 'downsample' }, rng).eval();
    // Zero conv weights: the branch gives BN(0) = 0 (eval: running mean 0, var 1, bias 0),
    // so the residual block is relu(x) and the plain block relu(0) = 0.
    for (const b of [res, plain]) for (const c of [b.conv1, b.conv2]) c.weight.assign(tf.zeros(c.weight.shape));
    const x = tf.tensor4d([-1, 2, 3, -4], [1, 1, 1, 4]);
    const y1 = res.forward(x);
    const y2 = plain.forward(x);
    assert.deepEqual(Array.from(y1.dataSync()), [0, 2, 3, 0]);
    assert.deepEqual(Array.from(y2.dataSync()), [0, 0, 0, 0]);
    assert.deepEqual(res.namedChildren().map(([n]) => n), ['conv1', 'bn1', 'conv2', 'bn2']);
    tf.dispose([x, y1, y2]);
    res.dispose();
    plain.dispose();
  });

  it('bottleneck: stride on the 3x3 (torchvision) or the first 1x1 (MSRA), same params, fewer MACs', () => {
    const rng = new Rng(0);
    const sc = { option: 'B', name: 'downsample' } as const;
    const tv = new Bottleneck(256, 128, 2, sc, rng);
    const msra = new Bottleneck(256, 128, 2, sc, rng, true);
    assert.deepEqual([tv.conv1.stride, tv.conv2.stride], [1, 2]);
    assert.deepEqual([msra.conv1.stride, msra.conv2.stride], [2, 1]);
    // 256*128 + 9*128*128 + 128*512 + 256*512 (projection) + BN 2*(128+128+512+512)
    // = 32,768 + 147,456 + 65,536 + 131,072 + 2,560 = 379,392
    assert.equal(tv.numParameters(), 379392);
    assert.equal(msra.numParameters(), 379392);
    // Input 56x56x256 -> 28x28x512. torchvision: conv1 at 56x56: 56*56*256*128 = 102,760,448;
    // conv2 28*28*9*128*128 = 115,605,504; conv3 28*28*128*512 = 51,380,224; projection
    // 28*28*256*512 = 102,760,448: 372,506,624. MSRA: conv1 at 28x28 = 25,690,112: 295,436,288.
    assert.equal(countMacs(tv, { h: 56, w: 56, c: 256 }).macs, 372506624);
    assert.equal(countMacs(msra, { h: 56, w: 56, c: 256 }).macs, 295436288);
    const x = tf.randomNormal([1, 8, 8, 256], 0, 1, 'float32', 1);
    const [a, b] = [tv.forward(x), msra.forward(x)];
    assert.deepEqual(a.shape, [1, 4, 4, 512]);
    assert.deepEqual(b.shape, [1, 4, 4, 512]);
    assert.deepEqual(tv.namedChildren().map(([n]) => n), ['conv1', 'bn1', 'conv2', 'bn2', 'conv3', 'bn3', 'downsample']);
    tf.dispose([x, a, b]);
    tv.dispose();
    msra.dispose();
  });
  it('option A in a bottleneck (ImageNet conv2_1, 64 -> 256 at stride 1): channels padded 96 + 96, no weights', () => {
    const block = new Bottleneck(64, 64, 1, { option: 'A', name: 'downsample' }, new Rng(2)).eval();
    const sc = block.getModule('downsample');
    assert.ok(sc instanceof ZeroPadShortcut);
    assert.deepEqual([sc.padBefore, sc.padAfter], [96, 96]);
    // 64*64 + 9*64*64 + 64*256 + BN 2*(64+64+256) = 4,096 + 36,864 + 16,384 + 768 = 58,112
    assert.equal(block.numParameters(), 58112);
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([1, 5, 5, 64], 0, 1, 'float32', 4);
    const y = block.forward(x);
    assert.deepEqual(y.shape, [1, 5, 5, 256]);
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, before);
    block.dispose();
  });
});
