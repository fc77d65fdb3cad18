/**
 * Boxes through the input geometry: scaled per axis by the resize factors (./size.ts) and,
 * for a horizontally flipped image (the paper's only detection augmentation), mirrored.
 *
 * In continuous coordinates a box `[x1, y1, x2, y2]` of an image `W'` wide mirrors to
 * `[W' - x2, y1, W' - x1, y2]` (py-faster-rcnn's `W - x2 - 1` is the same map in its 0-based
 * inclusive convention). Mapping detections back to the original image is the same function
 * with the inverse factors, then a clip (tasks/detection/detect-image.ts `toOriginal`).
 */

/**
 * Scales boxes per axis and, when `flipWidth` is given, mirrors them in an image that wide
 * (the scaled image's width).
 * @param boxes [G * 4] xyxy
 * @returns a new [G * 4] array
 */
export function transformBoxes(boxes: Float32Array, scaleX: number, scaleY: number, flipWidth?: number): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    const x1 = boxes[i] * scaleX;
    const x2 = boxes[i + 2] * scaleX;
    out[i] = flipWidth === undefined ? x1 : flipWidth - x2;
    out[i + 1] = boxes[i + 1] * scaleY;
    out[i + 2] = flipWidth === undefined ? x2 : flipWidth - x1;
    out[i + 3] = boxes[i + 3] * scaleY;
  }
  return out;
}
