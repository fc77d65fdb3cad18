/**
 * PASCAL VOC 07+12 trainval -> VOC07 test (ResNet paper Table 7; Faster R-CNN Sec. 4.1).
 * Schedule: end-to-end training, one image per iteration, lr 0.001 for 80k iterations then
 * 0.0001 up to 110k, as the 07+12 entry of experiments/scripts/train_faster_rcnn.sh in
 * endernewton/tf-faster-rcnn (pascal_voc_0712: STEPSIZE [80000], ITERS 110000); its VOC07-only
 * entry (STEPSIZE [50000], ITERS 70000) matches py-faster-rcnn's end-to-end solver
 * (models/pascal_voc/VGG16/faster_rcnn_end2end/solver.prototxt: base_lr 0.001, lr_policy step,
 * stepsize 50000, gamma 0.1, momentum 0.9, weight_decay 0.0005). Weight decay 0.0001 is the ResNet
 * paper's (Sec. 3.4) for ResNet backbones; py-faster-rcnn's 0.0005 is for VGG-16.
 */
import type { DetectionRecipe } from './types.ts';

export const VOC_RECIPE: DetectionRecipe = {
  description: 'VOC 07+12: lr 0.001 for 80k iterations, then 0.0001 to 110k, 1 image/iteration (tf-faster-rcnn pascal_voc_0712)',
  // RoIPool (max), as the paper's Appendix A and py-faster-rcnn (ROIPooling layer); RoIAlign came later (Mask R-CNN)
  detector: { numClasses: 20, roiHeads: { roiOp: 'pool' } },
  solver: { lr: 0.001, steps: [80000], gamma: 0.1, iterations: 110000, momentum: 0.9, weightDecay: 0.0001, batchSize: 1 },
  input: { shortSide: 600, maxSize: 1000, flip: true },
};
