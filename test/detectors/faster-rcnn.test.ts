import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { FasterRCNN } from '../../detectors/faster-rcnn.ts';
import type { FasterRCNNOverrides } from '../../detectors/config.ts';
import type { ImageSize } from '../../detectors/types.ts';
import { BatchNorm2d } from '../../src/nn/index.ts';
import { FakeBackbone } from '../helpers/fake-backbone.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBackbone } from '../../backbones/index.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.ts';
import { constantLr } from '../../src/train/schedule.ts';
import { Trainer } from '../../src/train/trainer.ts';

/** Small anchors for 128 px images; every anchor may be used (a tiny image crosses most borders). */
const SMALL: FasterRCNNOverrides = { numClasses: 3, seed: 1, rpn: { anchorSizes: [16, 32, 64], allowedBorder: 1e9 } };
const TARGET = { boxes: Float32Array.from([10, 10, 50, 60, 60, 70, 120, 110]), labels: Int32Array.from([0, 1]) };
const EMPTY = { boxes: new Float32Array(0), labels: new Int32Array(0) };

/** A synthetic image: two bright rectangles (the GT boxes) on a dark background. */
function syntheticImage(): tf.Tensor4D {
  const data = new Float32Array(128 * 128 * 3).fill(-0.5);
  for (const [x1, y1, x2, y2, v] of [[10, 10, 50, 60, 1], [60, 70, 120, 110, 0.5]]) {
    for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) data.fill(v, (y * 128 + x) * 3, (y * 128 + x) * 3 + 3);
  }
  return tf.tensor4d(data, [1, 128, 128, 3]);
}

describe('detectors/faster-rcnn (tiny fake backbone)', () => {
  let image: tf.Tensor4D;
  before(async () => {
    await initBackend();
    await ensureGradients();
    image = syntheticImage();
  });
  after(() => image.dispose());

  it('builds default parts from the config; BN frozen, frozenPrefixes get no gradient', () => {
    const model = new FasterRCNN({ backbone: new FakeBackbone(0) }, SMALL);
    assert.equal(model.rpn.head.conv.outChannels, 8); // trunk channels
    const bns: BatchNorm2d[] = [];
    const visit = (m: import('../../src/nn/index.ts').Module) => {
      if (m instanceof BatchNorm2d) bns.push(m);
      m.namedChildren().forEach(([, c]) => visit(c));
    };
    visit(model.backbone);
    assert.equal(bns.length, 3);
    assert.ok(bns.every((b) => b.frozen && !b.weight.trainable));
    const names = new Set(model.trainableVariables());
    assert.ok(!names.has((model.backbone as FakeBackbone).conv1.layers[0].namedParameters()[0][1]));
    // trainable: conv2 conv + head conv + rpn (3 convs x 2) + predictor (2 x 2) = 1 + 1 + 6 + 4
    assert.equal(model.trainableVariables().length, 12);
    assert.ok(model.stateDict().has('roi_heads.box_predictor.cls_score.weight'));
    assert.ok(model.stateDict().has('rpn.head.bbox_pred.weight'));
    model.dispose();
  });

  it('a few SGD steps on one image reduce the total loss; tensor count stays flat', () => {
    const model = new FasterRCNN({ backbone: new FakeBackbone(0) }, SMALL);
    const vars = model.trainableVariables();
    const samplerState = model.rng.state;
    const totals: number[] = [];
    const counts: number[] = [];
    for (let step = 0; step < 6; step++) {
      model.rng.state = samplerState; // same anchor/RoI samples each step: the loss is comparable
      const { value, grads } = tf.variableGrads(() => {
        const l = model.losses(image, [TARGET]);
        for (const part of [l.rpnCls, l.rpnBox, l.cls, l.box]) assert.ok(Number.isFinite(part.dataSync()[0]));
        return l.total;
      }, vars);
      totals.push(value.dataSync()[0]);
      for (const v of vars) {
        const g = grads[v.name];
        if (!g) continue;
        const next = tf.tidy(() => tf.sub(v, tf.mul(g, 0.1)));
        v.assign(next);
        next.dispose();
      }
      tf.dispose(grads);
      value.dispose();
      counts.push(tf.memory().numTensors);
    }
    assert.ok(totals[5] < totals[0] - 0.05, `total loss ${totals.map((t) => t.toFixed(4)).join(' -> ')}`);
    assert.ok(counts.every((c) => c === counts[0]), `tensor counts ${counts.join(', ')}`);
    model.dispose();
  });

  it('a background-only image is a valid sample: finite losses, zero box losses', () => {
    const model = new FasterRCNN({ backbone: new FakeBackbone(0) }, SMALL);
    const before = tf.memory().numTensors;
    const l = model.losses(image, [EMPTY]);
    assert.ok(Number.isFinite(l.total.dataSync()[0]) && l.rpnCls.dataSync()[0] > 0 && l.cls.dataSync()[0] > 0);
    assert.equal(l.rpnBox.dataSync()[0], 0);
    assert.equal(l.box.dataSync()[0], 0);
    tf.dispose(Object.values(l));
    // gradients too (only classification terms are connected)
    const { value, grads } = tf.variableGrads(() => model.losses(image, [EMPTY]).total, model.trainableVariables());
    assert.ok(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite)));
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });

  it('detect: at most detectionsPerImage per image, boxes in input pixels within each valid size, restores train mode', () => {
    const model = new FasterRCNN({ backbone: new FakeBackbone(0) }, { ...SMALL, roiHeads: { detectionsPerImage: 5, scoreThresh: 0 } });
    const batch = tf.concat([image, image]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    // image 1's valid area is 96 x 112 of the 128 x 128 batch (resized by 0.5 from 192 x 224:
    // the factors reach the RPN only, boxes stay in input pixels)
    const dets = model.detect(batch, { imageSizes: [{ height: 128, width: 128 }, { height: 96, width: 112, scaleX: 0.5, scaleY: 0.5 }] });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(dets.length, 2);
    assert.ok(model.training);
    for (const [i, d] of dets.entries()) {
      const n = d.scores.length;
      assert.ok(n > 0 && n <= 5);
      assert.equal(d.boxes.length, 4 * n);
      assert.ok(d.labels.every((l) => l >= 0 && l <= 2));
      for (let k = 1; k < n; k++) assert.ok(d.scores[k] <= d.scores[k - 1]);
      const [maxW, maxH] = i === 0 ? [128, 128] : [112, 96];
      for (let k = 0; k < n; k++) assert.ok(d.boxes[4 * k] >= 0 && d.boxes[4 * k + 1] >= 0 && d.boxes[4 * k + 2] <= maxW && d.boxes[4 * k + 3] <= maxH);
    }
    batch.dispose();
    model.dispose();
  });

  it('detect: each size\'s scaleX/scaleY reach the RPN as given (minSize in original pixels)', () => {
    const model = new FasterRCNN({ backbone: new FakeBackbone(0) }, SMALL);
    const seen: ImageSize[][] = [];
    const forward = model.rpn.forward.bind(model.rpn);
    model.rpn.forward = (f, sizes, training) => {
      seen.push(sizes);
      return forward(f, sizes, training);
    };
    const batch = tf.concat([image, image]) as tf.Tensor4D;
    model.detect(batch, { imageSizes: [{ height: 128, width: 128, scaleX: 0.5, scaleY: 0.5 }, { height: 96, width: 112, scaleX: 0.25, scaleY: 0.3 }] });
    model.detect(image);
    assert.deepEqual(seen, [
      [{ height: 128, width: 128, scaleX: 0.5, scaleY: 0.5 }, { height: 96, width: 112, scaleX: 0.25, scaleY: 0.3 }],
      [{ height: 128, width: 128 }],
    ]);
    batch.dispose();
    model.dispose();
  });

  it('rejects bad targets and inputs with the field named', () => {
    const model = new FasterRCNN({ backbone: new FakeBackbone(0) }, SMALL);
    // labels are class indices 0..2 (detectors/types.ts): 3 and -1 are out of range
    assert.throws(() => model.losses(image, [{ boxes: Float32Array.from([0, 0, 1, 1]), labels: Int32Array.from([3]) }]), /targets\[0\]\.labels\[0\]: expected a class index in 0\.\.2, got 3/);
    assert.throws(() => model.losses(image, [{ boxes: Float32Array.from([0, 0, 1, 1]), labels: Int32Array.from([-1]) }]), /targets\[0\]\.labels\[0\]: expected a class index in 0\.\.2, got -1/);
    assert.throws(() => model.losses(image, [{ boxes: Float32Array.from([5, 0, 1, 1]), labels: Int32Array.from([0]) }]), /targets\[0\]\.boxes\[0\]/);
    assert.throws(() => model.losses(image, [TARGET, TARGET]), /1 images but 2 targets/);
    assert.throws(() => model.detect(image, { imageSizes: [{ height: 200, width: 10 }] }), /imageSizes\[0\]/);
    assert.throws(() => new FasterRCNN({ backbone: new FakeBackbone(0) }, { numClasses: 0 }), /numClasses/);
    model.dispose();
  });
});

describe('detectors/faster-rcnn (ResNet-18: the unused ImageNet fc)', () => {
  before(async () => {
    await initBackend();
    await ensureGradients();
  });

  it('fc is frozen even with freezeBackbone false: no gradient, no momentum, unchanged, still in the checkpoint', async function () {
    this.timeout(60000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-frcnn-fc-'));
    const before = tf.memory().numTensors;
    const model = new FasterRCNN({ backbone: createBackbone('resnet18', { seed: 2 }) }, {
      ...SMALL, freezeBackbone: false, rpn: { ...SMALL.rpn, postNmsTopNTrain: 8 }, roiHeads: { batchSizePerImage: 2 },
    });
    const fc = model.backbone.getModule('fc');
    assert.ok(fc.namedParameters().every(([, v]) => !v.trainable));
    assert.ok(!model.trainableVariables().some((v) => fc.namedParameters().some(([, w]) => w === v)));
    const fcBefore = fc.namedParameters()[0][1].dataSync().slice();
    const image = tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
    const target = { boxes: Float32Array.from([4, 4, 20, 24]), labels: Int32Array.from([1]) };
    const file = path.join(dir, 'c.safetensors');
    const trainer = new Trainer({
      model, iterations: 1, schedule: constantLr(0.01), sgd: { momentum: 0.9, weightDecay: 1e-4 },
      data: { batch: async () => 0 },
      task: { step: () => ({ loss: model.losses(image, [target]).total, examples: 1 }) },
      checkpoint: { path: file, every: 1, config: null },
    });
    await trainer.run();
    const momentum = [...trainer.optimizer.stateDict().keys()];
    assert.ok(momentum.includes('backbone.layer1.0.conv1.weight')); // trained: freezeBackbone false
    assert.ok(!momentum.some((n) => n.startsWith('backbone.fc.')));
    assert.deepEqual(fc.namedParameters()[0][1].dataSync(), fcBefore); // no update, no weight decay
    const ckpt = loadCheckpoint(file);
    assert.ok(ckpt.model.has('backbone.fc.weight') && ckpt.model.has('backbone.fc.bias'));
    assert.ok(![...ckpt.optimizer.keys()].some((n) => n.startsWith('backbone.fc.')));
    disposeCheckpoint(ckpt);
    trainer.dispose();
    model.dispose();
    image.dispose();
    assert.equal(tf.memory().numTensors, before);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
