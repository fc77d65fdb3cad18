/**
 * PASCAL VOC 07+12 trainval -> VOC07 test (ResNet paper Table 7; Faster R-CNN Sec. 4.1).
 * Solver: py-faster-rcnn's end-to-end recipe, models/pascal_voc/VGG16/faster_rcnn_end2end/
 * solver.prototxt: base_lr 0.001, lr_policy step, stepsize 50000, gamma 0.1, momentum 0.9,
 * weight_decay 0.0005, run for 70000 iterations (experiments/scripts/faster_rcnn_end2end.sh,
 * pascal_voc) with one image per iteration. Weight decay 0.0001 is the ResNet paper's (Sec. 3.4)
 * and applies to ResNet backbones; py-faster-rcnn's 0.0005 is for VGG-16.
 */
import type { DetectionRecipe } from './types.ts';

export const VOC_RECIPE: DetectionRecipe = {
  description: 'VOC 07+12: py-faster-rcnn end2end solver (lr 0.001 for 50k iterations, 0.0001 for 20k), 1 image/iteration',
  detector: { numClasses: 20 },
  solver: { lr: 0.001, steps: [50000], gamma: 0.1, maxIter: 70000, momentum: 0.9, weightDecay: 0.0001, imagesPerBatch: 1 },
  input: { shortSide: 600, maxSize: 1000, flip: true },
};
