/**
 * The network-input size of an image (py-faster-rcnn `prep_im_for_blob`, Faster R-CNN Sec. 3.3,
 * torchvision `GeneralizedRCNNTransform.resize`): the shorter side becomes `minSize` unless the
 * longer side would then exceed `maxSize`, in which case the longer side becomes `maxSize`:
 * `s = min(minSize / short, maxSize / long)`. The output sizes are rounded (as cv2.resize's
 * `round(W * s)`), and the factors returned are the exact per-axis ratios `sx = W' / W`,
 * `sy = H' / H` rather than `s`, so a box that touches the image border still touches it after
 * {@link transformBoxes} (./boxes.ts).
 */

/** An image's input size and the per-axis factors from original to input pixels. */
export interface ResizedSize {
  /** input width and height in pixels, each at least 1 */
  width: number;
  height: number;
  /** input pixels per original pixel: `width / originalWidth`, `height / originalHeight` */
  scaleX: number;
  scaleY: number;
}

/**
 * The resized size of a `width` x `height` image (see the module comment).
 * @param minSize target shorter side (the paper's 600)
 * @param maxSize cap on the longer side (the paper's 1000)
 */
export function resizedSize(width: number, height: number, minSize: number, maxSize: number): ResizedSize {
  const s = Math.min(minSize / Math.min(width, height), maxSize / Math.max(width, height));
  const w = Math.max(1, Math.round(width * s));
  const h = Math.max(1, Math.round(height * s));
  return { width: w, height: h, scaleX: w / width, scaleY: h / height };
}
