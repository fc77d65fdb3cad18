/**
 * Data types shared by the detector's stages. Boxes are packed `[x1, y1, x2, y2]` Float32Arrays
 * in absolute pixels (STYLE.md habit 3); class labels are 1..numClasses with 0 = background
 * (torchvision's convention).
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
  /** [G] classes in 1..numClasses */
  labels: Int32Array;
}

/** The detections of one image. */
export interface Detections {
  /** [D, 4] xyxy */
  boxes: Float32Array;
  /** [D] class probabilities, descending */
  scores: Float32Array;
  /** [D] classes in 1..numClasses */
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
