/**
 * Greedy non-maximum suppression, as torchvision `nms` and py-faster-rcnn `py_cpu_nms`: visit the
 * boxes by decreasing score (ties: lower index first) and drop every later box whose IoU with a
 * kept box is above the threshold.
 */
import { topK } from './ops.ts';

/**
 * @param boxes [R, 4] xyxy (Float32Array, or Float64Array for the shifted boxes of batchedNms)
 * @param scores [R]
 * @param iouThreshold boxes with IoU > this with a kept, higher-scoring box are dropped
 * @returns kept indices, by decreasing score
 */
export function nms(boxes: ArrayLike<number>, scores: ArrayLike<number>, iouThreshold: number): Int32Array {
  const n = boxes.length / 4;
  if (scores.length !== n) throw new Error(`nms: ${n} boxes but ${scores.length} scores`);
  const order = topK(scores, n);
  const areas = new Float64Array(n);
  for (let i = 0; i < n; i++) areas[i] = Math.max(0, boxes[4 * i + 2] - boxes[4 * i]) * Math.max(0, boxes[4 * i + 3] - boxes[4 * i + 1]);
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let a = 0; a < n; a++) {
    const i = order[a];
    if (suppressed[i]) continue;
    keep.push(i);
    const x1 = boxes[4 * i];
    const y1 = boxes[4 * i + 1];
    const x2 = boxes[4 * i + 2];
    const y2 = boxes[4 * i + 3];
    for (let b = a + 1; b < n; b++) {
      const j = order[b];
      if (suppressed[j]) continue;
      const w = Math.min(x2, boxes[4 * j + 2]) - Math.max(x1, boxes[4 * j]);
      if (w <= 0) continue;
      const h = Math.min(y2, boxes[4 * j + 3]) - Math.max(y1, boxes[4 * j + 1]);
      if (h <= 0) continue;
      const inter = w * h;
      const union = areas[i] + areas[j] - inter;
      if (union > 0 && inter / union > iouThreshold) suppressed[j] = 1;
    }
  }
  return Int32Array.from(keep);
}

/**
 * NMS done independently per class (torchvision `batched_nms`): each class's boxes are shifted by
 * `class * (max coordinate + 1)` so boxes of different classes never overlap, then one NMS runs.
 * @param boxes [R, 4] xyxy
 * @param scores [R]
 * @param classes [R] class (or image) index of each box
 * The shifted copy is float64 so that large offsets (80 classes x 1000 px) lose no precision.
 * @returns kept indices, by decreasing score
 */
export function batchedNms(boxes: Float32Array, scores: ArrayLike<number>, classes: ArrayLike<number>, iouThreshold: number): Int32Array {
  const n = boxes.length / 4;
  if (n === 0) return new Int32Array(0);
  let maxCoord = -Infinity;
  for (let i = 0; i < boxes.length; i++) maxCoord = Math.max(maxCoord, boxes[i]);
  const shifted = new Float64Array(boxes.length);
  for (let i = 0; i < n; i++) {
    const offset = classes[i] * (maxCoord + 1);
    for (let k = 0; k < 4; k++) shifted[4 * i + k] = boxes[4 * i + k] + offset;
  }
  return nms(shifted, scores, iouThreshold);
}
