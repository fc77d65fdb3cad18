import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { DETECTOR_NAMES, createDetector, resolveConfig, DEFAULTS } from '../../detectors/index.ts';
import { PRESETS } from '../../detectors/presets/index.ts';
import { UserError } from '../../src/errors.ts';

describe('detectors (registry)', () => {
  before(async () => {
    await initBackend();
    await ensureGradients();
  });

  it('an unknown name lists the valid ones', () => {
    assert.throws(
      () => createDetector('faster-rcnn-resnet13'),
      (e: unknown) => e instanceof UserError && /unknown detector "faster-rcnn-resnet13".*faster-rcnn-resnet50, faster-rcnn-resnet101, faster-rcnn-vgg16/.test(e.message),
    );
  });

  it('config: paper defaults, overrides merge per part, presets validate', () => {
    const c = resolveConfig({ rpn: { nmsThresh: 0.6 } });
    assert.equal(c.rpn.nmsThresh, 0.6);
    assert.equal(c.rpn.fgIouThresh, 0.7);
    assert.deepEqual([c.rpn.preNmsTopNTrain, c.rpn.postNmsTopNTrain, c.rpn.preNmsTopNTest, c.rpn.postNmsTopNTest], [12000, 2000, 6000, 300]);
    assert.deepEqual(c.roiHeads.boxWeights, [10, 10, 5, 5]);
    assert.equal(DEFAULTS.roiHeads.batchSizePerImage, 128);
    for (const p of Object.values(PRESETS)) resolveConfig(p.detector);
    assert.throws(() => resolveConfig({ rpn: { bgIouThresh: 0.8 } }), /rpn\.bgIouThresh: expected <= rpn\.fgIouThresh/);
    assert.throws(() => resolveConfig({ roiHeads: { roiOp: 'crop' as 'pool' } }), /roiOp/);
  });

  // One seeded training step and one inference per registered detector at 64 x 64 with one RoI
  // per image (the per-RoI head, ResNet conv5 on a 14x14 RoI, costs ~0.8 GMACs per RoI). The step
  // differentiates w.r.t. every trainable variable for ResNet-50 (gradients reach the conv4 trunk)
  // and w.r.t. the RPN and the predictor for the others: a full backward pass through ResNet-101
  // costs ~6 s of CPU on this 2-core machine against ~1.5 s, for no new code path.
  for (const name of DETECTOR_NAMES) {
    it(`${name}: one training step (finite losses and gradients) and one detection`, function () {
      const full = name === 'faster-rcnn-resnet50';
      this.timeout(60000);
      const before = tf.memory().numTensors;
      const model = createDetector(name, {
        numClasses: 2,
        seed: 3,
        rpn: { anchorSizes: [32, 64], allowedBorder: 1e9, postNmsTopNTrain: 16, postNmsTopNTest: 1 },
        // one foreground RoI (the appended GT box at least), so both head losses reach the head
        roiHeads: { batchSizePerImage: 1, positiveFraction: 1 },
      });
      const image = tf.randomUniform([1, 64, 64, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
      const target = { boxes: Float32Array.from([8, 8, 40, 48]), labels: Int32Array.from([1]) };
      const vars = full ? model.trainableVariables() : [...model.rpn.trainableVariables(), ...model.roiHeads.trainableVariables()];
      const { value, grads } = tf.variableGrads(() => {
        const l = model.losses(image, [target]);
        assert.ok(l.box.dataSync()[0] > 0 && l.rpnBox.dataSync()[0] > 0);
        return l.total;
      }, vars);
      assert.ok(Number.isFinite(value.dataSync()[0]));
      // every trainable variable gets a gradient: the ImageNet classifier (ResNet fc, VGG fc8),
      // which detection does not use, is frozen and so not among them
      const nameOf = new Map(model.namedParameters().map(([n, v]) => [v, n]));
      assert.deepEqual(vars.filter((v) => !grads[v.name]).map((v) => nameOf.get(v)), []);
      const classifier = model.backbone.getModule(name.includes('vgg') ? 'classifier.6' : 'fc').namedParameters();
      assert.ok(classifier.length === 2 && classifier.every(([, v]) => !v.trainable));
      if (full) {
        // the trunk's convs (layer3 = conv4_x) get gradients; conv2_x (layer1) and every BN are frozen
        const convs = (path: string) => model.backbone.getModule(path).namedParameters().filter(([n]) => n.includes('conv'));
        assert.ok(convs('layer3').every(([, v]) => grads[v.name] !== undefined));
        assert.ok(convs('layer1').every(([, v]) => !v.trainable && grads[v.name] === undefined));
        assert.ok(model.backbone.getModule('layer3').namedParameters().filter(([n]) => n.includes('bn')).every(([, v]) => !v.trainable));
      }
      assert.ok(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite)));
      tf.dispose([value, ...Object.values(grads)]);
      const [d] = model.detect(image);
      assert.ok(d.scores.length <= 100 && d.boxes.length === 4 * d.scores.length);
      image.dispose();
      model.dispose();
      assert.equal(tf.memory().numTensors, before);
    });
  }
});
