/**
 * tasks/detection/model.ts: a spec rebuilds the detector its checkpoint was trained as. The RoI
 * grid and op live in the detector config; specs written before the grid moved there carry it
 * as a top-level `pooledSize`, and both build the same model.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { buildDetector, DETECTOR_CHECKPOINT_KIND, type DetectorSpec } from '../../../tasks/detection/model.ts';
import { RECIPES } from '../../../tasks/detection/recipes.ts';

/** Sum of squares of each RPN / RoI-head parameter, by name. */
function headSums(spec: DetectorSpec): Record<string, number> {
  const model = buildDetector(spec);
  try {
    const out: Record<string, number> = {};
    for (const [name, v] of model.namedParameters()) {
      if (!name.startsWith('roi_heads') && !name.startsWith('rpn')) continue;
      let s = 0;
      for (const x of v.dataSync()) s += x * x;
      out[name] = s;
    }
    assert.equal(model.roiHeads.pooledSize, 4);
    assert.equal(model.roiHeads.config.roiOp, 'align');
    return out;
  } finally {
    model.dispose();
  }
}

describe('tasks/detection/model: buildDetector', () => {
  before(async () => {
    await initBackend();
  });

  it('the tiny recipe\'s 4x4 heads: the initial weights of the runs measured before the grid moved into the config; old specs build the same', function () {
    this.timeout(60000);
    const before = tf.memory().numTensors;
    const base: Omit<DetectorSpec, 'detector'> = { kind: DETECTOR_CHECKPOINT_KIND, backbone: 'resnet18', classes: ['a', 'b'], input: { minSize: 32, maxSize: 48, norm: 'torchvision' } };
    const now = headSums({ ...base, detector: { ...RECIPES.tiny.detector, seed: 3 } });
    // a checkpoint written before: the grid beside the config, not in it
    const { pooledSize: _grid, ...oldHeads } = RECIPES.tiny.detector.roiHeads;
    const old = headSums({ ...base, pooledSize: 4, detector: { ...RECIPES.tiny.detector, roiHeads: oldHeads, seed: 3 } });
    assert.deepEqual(old, now);
    // measured with the code before this refactor (buildDetector injecting heads drawn from their
    // own stream): the RPN conv's and the predictor's sums of squares
    const expected: Record<string, number> = {
      'rpn.head.conv.weight': 58.92028, 'rpn.head.cls_logits.weight': 0.025627109, 'rpn.head.bbox_pred.weight': 0.10638592,
      'roi_heads.box_predictor.cls_score.weight': 0.14670042, 'roi_heads.box_predictor.bbox_pred.weight': 0.0061617942,
    };
    for (const [name, v] of Object.entries(expected)) assert.ok(Math.abs(now[name] - v) <= 1e-6 * v, `${name}: ${now[name]} vs ${v}`);
    assert.equal(tf.memory().numTensors, before);
  });

  it('a backbone without a detection cut is refused naming the field', () => {
    const before = tf.memory().numTensors;
    assert.throws(() => buildDetector({ kind: DETECTOR_CHECKPOINT_KIND, backbone: 'resnet20', classes: ['a'], detector: {}, input: { minSize: 32, maxSize: 32, norm: 'torchvision' } }),
      { name: 'UserError', message: 'backbone: expected a backbone with a detection cut (an ImageNet ResNet or VGG-16), got "resnet20"' });
    assert.equal(tf.memory().numTensors, before);
  });
});
