import assert from 'node:assert/strict';
import { DEFAULTS, resolveConfig } from '../../detectors/config.ts';
import { PRESETS } from '../../detectors/presets/index.ts';
import { RECIPES } from '../../tools/detection/recipes.ts';

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
