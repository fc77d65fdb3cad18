import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULTS, resolveConfig } from '../../detectors/config.ts';
import { PRESETS } from '../../detectors/presets/index.ts';
import { resolvePooledSize } from '../../detectors/roi-heads.ts';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { initBackend } from '../../src/backend/index.ts';
import { buildDetector, DETECTOR_CHECKPOINT_KIND } from '../../tasks/detection/model.ts';
import { RECIPES } from '../../tasks/detection/recipes.ts';

describe('detectors/presets', () => {
  it('the paper\'s VOC and COCO presets use RoI pooling (Appendix A); the default is torchvision\'s RoIAlign', () => {
    assert.equal(DEFAULTS.roiHeads.roiOp, 'align');
    assert.equal(resolveConfig(PRESETS.voc.detector).roiHeads.roiOp, 'pool');
    assert.equal(resolveConfig(PRESETS.coco.detector).roiHeads.roiOp, 'pool');
    // train-detector's voc/coco recipes carry the preset's choice; the demo's shapes recipe keeps the default
    assert.equal(resolveConfig(RECIPES.voc.detector).roiHeads.roiOp, 'pool');
    assert.equal(resolveConfig(RECIPES.coco.detector).roiHeads.roiOp, 'pool');
    assert.equal(resolveConfig(RECIPES.shapes.detector).roiHeads.roiOp, 'align');
  });

  it('rpn.minSize defaults to py-faster-rcnn\'s 16 original-image pixels', () => {
    assert.equal(DEFAULTS.rpn.minSize, 16);
    // shapes: 8 original px = 4 input px at make-shapes' 256x192 resized to a 96 px shorter side (scale 0.5)
    assert.equal(RECIPES.shapes.detector.rpn.minSize * (96 / 192), 4);
  });
});

describe('detectors: RoI grid per backbone (roiHeads.pooledSize, resolvePooledSize)', () => {
  before(async () => {
    await initBackend();
    await ensureGradients();
  });

  it('the config asks, a head that takes any grid follows, a fixed head keeps its own', () => {
    assert.equal(DEFAULTS.roiHeads.pooledSize, 'backbone');
    assert.equal(resolvePooledSize('backbone', { pooledSize: 14 }), 14);
    assert.equal(resolvePooledSize(4, { pooledSize: 14 }), 4);
    assert.equal(resolvePooledSize(4, { pooledSize: 7, fixedPooledSize: true }), 7);
    assert.equal(resolvePooledSize('backbone', { pooledSize: 7, fixedPooledSize: true }), 7);
    assert.throws(() => resolveConfig({ roiHeads: { pooledSize: 0 } }), /roiHeads\.pooledSize: expected 'backbone' or a positive integer, got 0/);
    assert.throws(() => resolveConfig({ roiHeads: { pooledSize: 2.5 } }), /roiHeads\.pooledSize/);
  });

  // The bug this guards: the small recipes' 4x4 grid reached VGG-16's fc6 (a 7x7x512 matrix) and
  // its first step died in matMul (8192 vs 25088). Each small recipe builds both kinds of head as
  // train-detector does, and one seeded loss + gradient (RPN and predictor: the forward pass
  // crosses fc6) and one detection run at 32x48.
  for (const preset of ['tiny', 'shapes'] as const) {
    for (const [backbone, pooled] of [['resnet18', 4], ['vgg16', 7]] as const) {
      it(`${preset} recipe, ${backbone}: ${pooled}x${pooled} RoIs, finite losses and gradients, detections`, function () {
        this.timeout(60000);
        const before = tf.memory().numTensors;
        const r = RECIPES[preset];
        const model = buildDetector({
          kind: DETECTOR_CHECKPOINT_KIND, backbone, classes: ['circle', 'square'], detector: { ...r.detector, seed: 1 },
          input: { minSize: 32, maxSize: 48, norm: r.norm },
        });
        try {
          assert.equal(model.roiHeads.pooledSize, pooled);
          const image = tf.randomUniform([1, 32, 48, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
          const target = { boxes: Float32Array.from([4, 4, 28, 24]), labels: Int32Array.from([1]) };
          const vars = [...model.rpn.trainableVariables(), ...model.roiHeads.trainableVariables()];
          const { value, grads } = tf.variableGrads(() => model.losses(image, [target], [{ height: 32, width: 48 }]).total, vars);
          assert.ok(Number.isFinite(value.dataSync()[0]));
          assert.equal(Object.keys(grads).length, vars.length);
          assert.ok(Object.values(grads).every((g) => g.dataSync().every(Number.isFinite)));
          tf.dispose([value, ...Object.values(grads)]);
          const [d] = model.detect(image);
          assert.equal(d.boxes.length, 4 * d.scores.length);
          image.dispose();
        } finally {
          model.dispose();
        }
        assert.equal(tf.memory().numTensors, before);
      });
    }
  }
});
