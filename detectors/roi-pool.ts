/**
 * RoIPool (Fast R-CNN, Girshick 2015, Sec. 2.1; py-faster-rcnn / torchvision `roi_pool`): the RoI
 * is rounded to feature cells, cut into P x P bins of `floor`/`ceil` extent, and each bin takes
 * the max of its cells (an empty bin gives 0), as the Caffe layer the paper used.
 *
 * Computed with gathers and max-reductions, so the gradient reaches the features: max over a
 * rectangle is separable (max over its rows of the max over its columns). Step 1 gathers, for
 * every (RoI, bin row), its map rows and takes their max -> [R, P, W, C]; step 2 gathers, for
 * every bin column, its columns and takes their max -> [R, P, P, C]. Bins with fewer cells than
 * the widest bin are padded with a sentinel row/column of -1e30 (never a repeated cell, which
 * would double its gradient). The max gradient of tfjs sends dy to every tied cell; Caffe sends
 * it to the first argmax only (the two differ only on exact ties).
 */
import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from './gather-rows.ts';
import { MAX_ELEMENTS, validateRoIs, type RoIOpOptions } from './rois.ts';

export type RoIPoolOptions = RoIOpOptions;

const SENTINEL = -1e30;

/** C's round(): half away from zero (Caffe rounds the RoI with it; Math.round rounds half up). */
function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}

/**
 * The cell ranges [start, end) of the P bins of one RoI along one axis (Caffe ROIPoolingLayer).
 * @returns 2P numbers: start_0, end_0, start_1, end_1, ...
 */
export function binRanges(lo: number, hi: number, outputSize: number, size: number, scale: number): Int32Array {
  const start = roundHalfAway(lo * scale);
  const end = roundHalfAway(hi * scale);
  const length = Math.max(end - start + 1, 1);
  const bin = length / outputSize;
  const out = new Int32Array(2 * outputSize);
  for (let p = 0; p < outputSize; p++) {
    out[2 * p] = Math.min(Math.max(Math.floor(p * bin) + start, 0), size);
    out[2 * p + 1] = Math.min(Math.max(Math.ceil((p + 1) * bin) + start, 0), size);
  }
  return out;
}

/**
 * @param features [N, H, W, C]
 * @param boxes [R, 4] xyxy in input pixels, grouped by image (batchIndices non-decreasing)
 * @param batchIndices [R] image of each RoI
 * @returns [R, P, P, C]
 */
export function roiPool(features: tf.Tensor4D, boxes: Float32Array, batchIndices: Int32Array, opts: RoIPoolOptions): tf.Tensor4D {
  const [n, h, w, c] = features.shape;
  const r = batchIndices.length;
  const p = opts.outputSize;
  validateRoIs('roiPool', n, boxes, batchIndices);
  if (r === 0) return tf.zeros([0, p, p, c]);
  const rows: Int32Array[] = [];
  const cols: Int32Array[] = [];
  for (let k = 0; k < r; k++) {
    rows.push(binRanges(boxes[4 * k + 1], boxes[4 * k + 3], p, h, opts.spatialScale));
    cols.push(binRanges(boxes[4 * k], boxes[4 * k + 2], p, w, opts.spatialScale));
  }
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let lo = 0; lo < r; ) {
      const b = batchIndices[lo];
      // the widest bin of the chunk sets the gather depth; chunks keep [m*P*ky, W+1, C] bounded
      let hi = lo;
      let ky = 1;
      let kx = 1;
      while (hi < r && batchIndices[hi] === b) {
        let nky = ky;
        let nkx = kx;
        for (let q = 0; q < p; q++) {
          nky = Math.max(nky, rows[hi][2 * q + 1] - rows[hi][2 * q]);
          nkx = Math.max(nkx, cols[hi][2 * q + 1] - cols[hi][2 * q]);
        }
        const m = hi - lo + 1;
        if (m > 1 && m * p * Math.max(nky * (w + 1), p * nkx) * c > (opts.maxElements ?? MAX_ELEMENTS)) break;
        ky = nky;
        kx = nkx;
        hi++;
      }
      const m = hi - lo;
      const fb = tf.slice(features, [b, 0, 0, 0], [1, h, w, c]);
      // sentinel row h and column w
      const padded = tf.pad(tf.reshape(fb, [h, w, c]), [[0, 1], [0, 1], [0, 0]], SENTINEL);
      const rowIdx = new Int32Array(m * p * ky).fill(h);
      const colIdx = new Int32Array(m * p * p * kx);
      const nonEmpty = new Float32Array(m * p * p);
      for (let k = 0; k < m; k++) {
        const ry = rows[lo + k];
        const rx = cols[lo + k];
        for (let i = 0; i < p; i++) {
          for (let y = ry[2 * i]; y < ry[2 * i + 1]; y++) rowIdx[(k * p + i) * ky + y - ry[2 * i]] = y;
          for (let j = 0; j < p; j++) {
            const base = ((k * p + i) * p + j) * kx;
            // step-2 table rows are (k, i, x): index (k * P + i) * (W + 1) + x; pad with x = W
            for (let t = 0; t < kx; t++) {
              const x = rx[2 * j] + t;
              colIdx[base + t] = (k * p + i) * (w + 1) + (x < rx[2 * j + 1] ? x : w);
            }
            nonEmpty[(k * p + i) * p + j] = ry[2 * i + 1] > ry[2 * i] && rx[2 * j + 1] > rx[2 * j] ? 1 : 0;
          }
        }
      }
      const byRow = tf.max(tf.reshape(gatherRows(padded, rowIdx), [m * p, ky, w + 1, c]), 1); // [m*P, W+1, C]
      const byBin = tf.max(tf.reshape(gatherRows(tf.reshape(byRow, [m * p * (w + 1), c]), colIdx), [m, p, p, kx, c]), 3);
      parts.push(tf.mul(byBin, tf.tensor4d(nonEmpty, [m, p, p, 1])));
      lo = hi;
    }
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
  });
}
