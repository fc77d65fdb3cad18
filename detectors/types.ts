/**
 * Data types shared by the detector's stages. Boxes are packed `[x1, y1, x2, y2]` Float32Arrays
 * in absolute pixels (STYLE.md habit 3).
 *
 * Labels: resdet's one convention is the class index, 0..numClasses-1, into the class list
 * (`classes[label]`), the same number in dataset records (datasets/detection), detector targets
 * and detections, inference output and evaluation. Background is not a label: it is the first
 * of the RoI head's numClasses + 1 score columns (class k is column k + 1, as torchvision's and
 * py-faster-rcnn's cls_score with 21 outputs for VOC), a layout that stays inside
 * detectors/roi-heads.ts. Conversions happen only at the edges of the library: file formats'
 * own ids (VOC class names, COCO category ids) in the loaders and writers.
 */

/** The valid (unpadded) size of one image in network-input pixels. */
export interface ImageSize {
  height: number;
  width: number;
  /**
   * network-input pixels per original-image pixel along x and y (the mapper's resize factors);
   * the RPN measures rpn.minSize in original-image pixels with them. Default 1.
   */
  scaleX?: number;
  scaleY?: number;
}

/** The ground truth of one training image (in network-input pixels, i.e. already scaled). */
export interface DetectionTarget {
  /** [G, 4] xyxy; G may be 0 (a background-only image) */
  boxes: Float32Array;
  /** [G] class indices in 0..numClasses-1 */
  labels: Int32Array;
}

/** The detections of one image. */
export interface Detections {
  /** [D, 4] xyxy */
  boxes: Float32Array;
  /** [D] class probabilities, descending */
  scores: Float32Array;
  /** [D] class indices in 0..numClasses-1 */
  labels: Int32Array;
}

/** The four Faster R-CNN losses and their sum, as scalars for tf.variableGrads. */
export interface DetectionLosses {
  /** RPN objectness (binary cross-entropy) */
  rpnCls: import('@tensorflow/tfjs-core').Scalar;
  /** RPN box regression (smooth L1, sigma 3) */
  rpnBox: import('@tensorflow/tfjs-core').Scalar;
  /** Fast R-CNN classification (softmax cross-entropy) */
  cls: import('@tensorflow/tfjs-core').Scalar;
  /** Fast R-CNN class-specific box regression (smooth L1, sigma 1) */
  box: import('@tensorflow/tfjs-core').Scalar;
  /** rpnCls + rpnBox + cls + box (the four losses weighted 1, as the references) */
  total: import('@tensorflow/tfjs-core').Scalar;
}
