/**
 * What the RoI ops (roi-align.ts, roi-pool.ts) share: their geometry options and the check of
 * a RoI batch. RoIs are packed `[x1, y1, x2, y2]` in input pixels with one image index each,
 * grouped by image (the order the RoI heads build them in).
 */

export interface RoIOpOptions {
  /** P: output bins per side (14 for ResNet's conv5 head, 7 for VGG's fc6) */
  outputSize: number;
  /** feature cells per input pixel: 1 / stride */
  spatialScale: number;
}

/**
 * Throws unless there is one image index per box and the indices are sorted and in [0, n).
 * @param op the op's name, for the message
 * @param numImages N of the [N, H, W, C] features
 * @param boxes [R, 4] @param batchIndices [R]
 */
export function validateRoIs(op: string, numImages: number, boxes: Float32Array, batchIndices: Int32Array): void {
  const r = batchIndices.length;
  if (boxes.length !== 4 * r) throw new Error(`${op}: ${boxes.length / 4} boxes but ${r} batch indices`);
  for (let k = 0; k < r; k++) {
    const b = batchIndices[k];
    if (b < 0 || b >= numImages || (k > 0 && b < batchIndices[k - 1])) {
      throw new Error(`${op}: batch indices must be sorted and in [0, ${numImages}), got ${b} at ${k}`);
    }
  }
}
