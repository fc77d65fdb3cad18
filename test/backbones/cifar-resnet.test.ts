import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ZeroPadShortcut } from '../../backbones/blocks.ts';
import { cifarResnet, CIFAR_DEPTHS } from '../../backbones/cifar-resnet.ts';
import type { Backbone } from '../../backbones/types.ts';
import { SHARED_DATA } from '../helpers/cli.ts';
import { requireShared } from '../helpers/shared.ts';

describe('backbones/cifar-resnet', () => {
  before(async () => {
    await initBackend();
  });

  it('6n+2 layers: n = 3, 5, 7, 9, 18, 200 (Sec. 4.2)', () => {
    for (const [depth, n] of Object.entries(CIFAR_DEPTHS)) assert.equal(6 * n + 2, Number(depth));
  });

  it('names its state as akamaster/pytorch_resnet_cifar10: the keys of the real ResNet-20/32 checkpoints', function () {
    const dir = path.join(SHARED_DATA, 'cifar10-resnet');
    requireShared(this, dir);
    for (const [depth, file] of [
      [20, 'resnet20-12fca82f.th'],
      [32, 'resnet32-d509ac18.th'],
    ] as const) {
      // The legacy torch.save pickle stores each key as a plain string; reading the strings (never
      // unpickling) is enough to compare names.
      const bytes = fs.readFileSync(path.join(dir, file)).toString('latin1');
      const theirs = new Set([...bytes.matchAll(/module\.([a-z0-9_.]+?\.(?:weight|bias|running_mean|running_var))/g)].map((m) => m[1]));
      const net = cifarResnet(depth);
      const ours = [...net.stateDict().keys()];
      // ResNet-20: 19 convs + 19 BNs x 4 + linear weight and bias = 97 tensors
      if (depth === 20) assert.equal(ours.length, 97);
      assert.deepEqual([...theirs].sort(), [...ours].sort());
      net.dispose();
    }
  });

  it('option A at conv3_1 and conv4_1 pads channels on both sides; plain nets have no shortcut and the same params', () => {
    const res = cifarResnet(20);
    const plain = cifarResnet(20, { plain: true });
    const sc2 = res.getModule('layer2.0.shortcut');
    const sc3 = res.getModule('layer3.0.shortcut');
    assert.ok(sc2 instanceof ZeroPadShortcut && sc3 instanceof ZeroPadShortcut);
    assert.deepEqual([sc2.padBefore, sc2.padAfter, sc3.padBefore, sc3.padAfter], [8, 8, 16, 16]);
    assert.throws(() => res.getModule('layer1.0.shortcut'), /no module/); // 16 -> 16: identity
    assert.throws(() => plain.getModule('layer2.0.shortcut'), /no module/);
    // stem 3*16*9 + BN 32 = 464; stage 1: 6 convs 16*16*9 + 6 BN 32 = 14,016; stage 2: 16*32*9 +
    // 5*32*32*9 + 6 BN 64 = 4,608 + 46,080 + 384 = 51,072; stage 3: 32*64*9 + 5*64*64*9 + 6*128
    // = 18,432 + 184,320 + 768 = 203,520; linear 64*10 + 10 = 650. Sum 269,722.
    assert.equal(res.numParameters(), 269722);
    assert.equal(plain.numParameters(), 269722);
    // option B adds 1x1 projections + BN at conv3_1 (16*32 + 64) and conv4_1 (32*64 + 128) = 2,752
    const b = cifarResnet(20, { shortcut: 'B' });
    assert.equal(b.numParameters(), 269722 + 2752);
    assert.ok(b.getModule('layer2.0.shortcut.0'));
    for (const net of [res, plain, b]) net.dispose();
  });

  it('feature maps: conv1..conv4 at strides 1, 1, 2, 4 with 16, 16, 32, 64 channels (32x32 input)', () => {
    const net = cifarResnet(32, { seed: 4 });
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const maps = net.features(x, ['conv4', 'conv1', 'conv2', 'conv3']);
    assert.deepEqual(
      ['conv1', 'conv2', 'conv3', 'conv4'].map((n) => maps[n].shape),
      [
        [2, 32, 32, 16],
        [2, 32, 32, 16],
        [2, 16, 16, 32],
        [2, 8, 8, 64],
      ],
    );
    assert.deepEqual(net.outputShape.conv4, { channels: 64, stride: 4 });
    assert.equal((net as Backbone).detection, undefined);
    tf.dispose([x, ...Object.values(maps)]);
    assert.equal(tf.memory().numTensors, before);
    net.dispose();
  });

  it('a gradient reaches every trainable parameter of resnet20 (2-image batch)', async () => {
    // Stock wasm has no Conv2DBackpropFilter; resdet's own kernel registers it when present.
    const backend = tf.getBackend();
    const switched = !tf.getKernel('Conv2DBackpropFilter', backend);
    if (switched) await tf.setBackend('cpu');
    try {
      const net = cifarResnet(20, { seed: 9 });
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 3);
      const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([3, 7], 'int32'), 10));
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x)) as tf.Scalar);
      assert.ok(Number.isFinite(value.dataSync()[0]));
      const names = new Map(net.namedParameters().map(([n, v]) => [v.name, n]));
      const trainable = net.trainableVariables();
      assert.equal(trainable.length, 19 + 19 * 2 + 2); // conv weights, BN gamma/beta, linear
      for (const v of trainable) {
        const g = grads[v.name];
        assert.ok(g, `no gradient for ${names.get(v.name)}`);
        const norm = tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]);
        assert.ok(Number.isFinite(norm) && norm > 0, `${names.get(v.name)}: |grad| = ${norm}`);
      }
      tf.dispose([value, x, labels, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before);
      net.dispose();
    } finally {
      if (switched) await tf.setBackend(backend);
    }
  });
});
