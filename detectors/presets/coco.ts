/**
 * MS COCO trainval -> val (ResNet paper Table 8 and Appendix A): "The RPN step has a mini-batch
 * size of 8 images (i.e., 1 per GPU) and the Fast R-CNN step has a mini-batch size of 16
 * images. The RPN step and Fast R-CNN step are both trained for 240k iterations with a learning
 * rate of 0.001 and then for 80k iterations with 0.0001." End-to-end training here uses one batch
 * for both (8 images); anchors gain a 64 px size for COCO's small objects (Faster R-CNN Sec.
 * 4.2 adds 64^2 anchors for COCO). Weight decay 0.0001, momentum 0.9 (ResNet paper Sec. 3.4).
 */
import type { DetectionRecipe } from './types.ts';

export const COCO_RECIPE: DetectionRecipe = {
  description: 'COCO: ResNet paper Appendix A (lr 0.001 for 240k iterations, 0.0001 for 80k), 8 images/iteration',
  // RoIPool (max), as the paper's Appendix A ("RoI pooling"); RoIAlign came later (Mask R-CNN)
  detector: { numClasses: 80, rpn: { anchorSizes: [64, 128, 256, 512] }, roiHeads: { roiOp: 'pool' } },
  solver: { lr: 0.001, steps: [240000], gamma: 0.1, iterations: 320000, momentum: 0.9, weightDecay: 0.0001, batchSize: 8 },
  input: { shortSide: 600, maxSize: 1000, flip: true },
};
