/**
 * Elementary box math on TypedArrays. resdet's one box convention (STYLE.md habit 3):
 * `[x1, y1, x2, y2]` in absolute pixels, R boxes packed as a Float32Array of length 4R.
 * Widths are `x2 - x1` (continuous coordinates, as torchvision; py-faster-rcnn's `+ 1` is not used).
 */

/** R boxes `[x1, y1, x2, y2]` packed row-major: length 4R. */
export type Boxes = Float32Array;

/** Number of boxes in a packed array; throws when the length is not a multiple of 4. */
export function numBoxes(boxes: Boxes): number {
  if (boxes.length % 4 !== 0) throw new Error(`boxes: expected a length that is a multiple of 4, got ${boxes.length}`);
  return boxes.length / 4;
}

/**
 * Areas `(x2 - x1) * (y2 - y1)`; degenerate boxes (x2 < x1) count as 0.
 * @param boxes [R, 4] xyxy -> [R]
 */
export function area(boxes: Boxes): Float32Array {
  const n = numBoxes(boxes);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.max(0, boxes[4 * i + 2] - boxes[4 * i]) * Math.max(0, boxes[4 * i + 3] - boxes[4 * i + 1]);
  }
  return out;
}

/** IoU of box i of `a` and box j of `b`, given their areas (0 when the union is empty). */
function iouAt(a: Boxes, i: number, areaA: number, b: Boxes, j: number, areaB: number): number {
  const w = Math.min(a[4 * i + 2], b[4 * j + 2]) - Math.max(a[4 * i], b[4 * j]);
  if (w <= 0) return 0;
  const h = Math.min(a[4 * i + 3], b[4 * j + 3]) - Math.max(a[4 * i + 1], b[4 * j + 1]);
  if (h <= 0) return 0;
  const inter = w * h;
  const union = areaA + areaB - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Pairwise intersection over union (torchvision `box_iou`), row-major `[M, N]`.
 * Two zero-area boxes have IoU 0 (not NaN).
 * @param a [M, 4] xyxy
 * @param b [N, 4] xyxy
 * @returns [M, N], entry `i * N + j` = IoU(a_i, b_j)
 */
export function iouMatrix(a: Boxes, b: Boxes): Float32Array {
  const m = numBoxes(a);
  const n = numBoxes(b);
  const areaA = area(a);
  const areaB = area(b);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = iouAt(a, i, areaA[i], b, j, areaB[j]);
  }
  return out;
}

/** IoU of two single boxes, each `[x1, y1, x2, y2]`. */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const fa = Float32Array.from(a);
  const fb = Float32Array.from(b);
  return iouAt(fa, 0, area(fa)[0], fb, 0, area(fb)[0]);
}

/**
 * Clips boxes to the image `[0, width] x [0, height]` (torchvision `clip_boxes_to_image`).
 * @param boxes [R, 4] xyxy -> a new [R, 4]
 */
export function clipBoxes(boxes: Boxes, height: number, width: number): Boxes {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = Math.min(Math.max(boxes[i], 0), width);
    out[i + 1] = Math.min(Math.max(boxes[i + 1], 0), height);
    out[i + 2] = Math.min(Math.max(boxes[i + 2], 0), width);
    out[i + 3] = Math.min(Math.max(boxes[i + 3], 0), height);
  }
  return out;
}

/**
 * Indices of the boxes whose width is >= minSize and height >= minHeight (torchvision
 * `remove_small_boxes`; py-faster-rcnn `_filter_boxes` with RPN_MIN_SIZE).
 * @param boxes [R, 4] xyxy
 * @param minHeight default minSize (a separate value when the image was scaled per axis)
 * @returns kept indices, ascending
 */
export function removeSmallBoxes(boxes: Boxes, minSize: number, minHeight = minSize): Int32Array {
  const keep: number[] = [];
  for (let i = 0; i < boxes.length / 4; i++) {
    if (boxes[4 * i + 2] - boxes[4 * i] >= minSize && boxes[4 * i + 3] - boxes[4 * i + 1] >= minHeight) keep.push(i);
  }
  return Int32Array.from(keep);
}

/** The boxes at `indices`, packed: [K, 4]. */
export function selectBoxes(boxes: Boxes, indices: ArrayLike<number>): Boxes {
  const out = new Float32Array(indices.length * 4);
  for (let k = 0; k < indices.length; k++) out.set(boxes.subarray(4 * indices[k], 4 * indices[k] + 4), 4 * k);
  return out;
}

/** The entries of a per-box array at `indices`. */
export function selectValues<T extends Float32Array | Int32Array>(values: T, indices: ArrayLike<number>): T {
  const out = new (values.constructor as { new (n: number): T })(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = values[indices[k]];
  return out;
}

/** Concatenates packed box arrays. */
export function concatBoxes(...parts: Boxes[]): Boxes {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Indices of the k largest scores, in descending score order; ties keep the lower index first
 * (a stable sort, so results do not depend on the sort implementation).
 */
export function topK(scores: ArrayLike<number>, k: number): Int32Array {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  order.sort((i, j) => scores[j] - scores[i] || i - j);
  return Int32Array.from(order.slice(0, Math.max(0, k)));
}
