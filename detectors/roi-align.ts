/**
 * RoIAlign (Mask R-CNN, He et al. 2017, Sec. 3; torchvision `roi_align`): each RoI is cut into
 * P x P bins; each bin averages `sampling x sampling` bilinearly interpolated points, with
 * torchvision's border rules (points beyond one cell outside the map give 0, points in
 * [-1, 0) clamp to 0). `aligned` shifts the box by half a cell (detectron2's pixel model);
 * without it a RoI is at least 1x1 cell, as in the original op.
 *
 * Computed without cropAndResize (no gradient in tfjs): bilinear sampling averaged over a bin is
 * separable, `out[r, i, j, c] = sum_y sum_x Wy[r, i, y] Wx[r, j, x] F[b_r, y, x, c]`, where the
 * per-axis weights Wy [P, H] and Wx [P, W] are computed in JS from the box (no gradient w.r.t. the
 * boxes, as approximate joint training, Faster R-CNN Sec. 3.2). Two matMuls then contract the map;
 * their gradients flow back to the features on every backend. The larger spatial axis is
 * contracted first and RoIs go in chunks, so the intermediate stays at most ~`maxElements`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MAX_ELEMENTS, validateRoIs, type RoIOpOptions } from './rois.ts';

export interface RoIAlignOptions extends RoIOpOptions {
  /** sample points per bin side; <= 0: adaptive `ceil(roi size / P)` as torchvision */
  samplingRatio: number;
  /** half-pixel offset (detectron2 ROIAlignV2); false reproduces the original RoIAlign */
  aligned: boolean;
}

/**
 * The averaged bilinear weights of one RoI along one axis (torchvision's bilinear_interpolate,
 * split by axis).
 * @returns [P, size], row p = the weight of each map row/column in bin p, divided by the grid
 */
export function axisWeights(start: number, length: number, outputSize: number, grid: number, size: number): Float32Array {
  const w = new Float32Array(outputSize * size);
  const bin = length / outputSize;
  for (let p = 0; p < outputSize; p++) {
    for (let g = 0; g < grid; g++) {
      let v = start + p * bin + ((g + 0.5) * bin) / grid;
      if (v < -1 || v > size) continue;
      if (v <= 0) v = 0;
      let lo = Math.floor(v);
      let hi = lo + 1;
      if (lo >= size - 1) {
        lo = hi = size - 1;
        v = lo;
      }
      const frac = v - lo;
      w[p * size + lo] += (1 - frac) / grid;
      w[p * size + hi] += frac / grid;
    }
  }
  return w;
}

/** RoIs lo..hi of per-RoI weights [P, size], each repeated P times: [hi - lo, P, P, size]. */
function repeatPerBin(weights: Float32Array, lo: number, hi: number, p: number, size: number): Float32Array {
  const block = p * size;
  const out = new Float32Array((hi - lo) * p * block);
  for (let k = lo; k < hi; k++) {
    const src = weights.subarray(k * block, (k + 1) * block);
    for (let q = 0; q < p; q++) out.set(src, ((k - lo) * p + q) * block);
  }
  return out;
}

/**
 * @param features [N, H, W, C] (N = 1 or the batch)
 * @param boxes [R, 4] xyxy in input pixels, grouped by image (batchIndices non-decreasing)
 * @param batchIndices [R] image of each RoI
 * @returns [R, P, P, C]
 */
export function roiAlign(features: tf.Tensor4D, boxes: Float32Array, batchIndices: Int32Array, opts: RoIAlignOptions): tf.Tensor4D {
  const [n, h, w, c] = features.shape;
  const r = batchIndices.length;
  const p = opts.outputSize;
  validateRoIs('roiAlign', n, boxes, batchIndices);
  if (r === 0) return tf.zeros([0, p, p, c]);
  const offset = opts.aligned ? 0.5 : 0;
  const wy = new Float32Array(r * p * h);
  const wx = new Float32Array(r * p * w);
  for (let k = 0; k < r; k++) {
    const x1 = boxes[4 * k] * opts.spatialScale - offset;
    const y1 = boxes[4 * k + 1] * opts.spatialScale - offset;
    let rw = boxes[4 * k + 2] * opts.spatialScale - offset - x1;
    let rh = boxes[4 * k + 3] * opts.spatialScale - offset - y1;
    if (!opts.aligned) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const gy = opts.samplingRatio > 0 ? opts.samplingRatio : Math.ceil(rh / p);
    const gx = opts.samplingRatio > 0 ? opts.samplingRatio : Math.ceil(rw / p);
    wy.set(axisWeights(y1, rh, p, gy, h), k * p * h);
    wx.set(axisWeights(x1, rw, p, gx, w), k * p * w);
  }
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    const chunk = Math.max(1, Math.floor((opts.maxElements ?? MAX_ELEMENTS) / (p * Math.min(h, w) * c)));
    for (let lo = 0; lo < r; ) {
      const b = batchIndices[lo];
      let hi = lo;
      while (hi < r && batchIndices[hi] === b && hi - lo < chunk) hi++;
      const fb = n === 1 ? tf.squeeze(features, [0]) : tf.squeeze(tf.slice(features, [b, 0, 0, 0], [1, h, w, c]), [0]);
      const m = hi - lo;
      if (w >= h) {
        // contract x first: [m*P, W] @ [W, H*C] -> [m, P(j), H, C]; then Wy over H, batched per
        // (RoI, j); the weights are repeated in JS because tfjs 4.22's batch matMul broadcasts
        // [m, 1] against [m, P] batch dims wrongly (it pairs flattened batches modulo m).
        const wxT = tf.tensor2d(wx.slice(lo * p * w, hi * p * w), [m * p, w]);
        const g = tf.reshape(tf.matMul(wxT, tf.reshape(tf.transpose(fb, [1, 0, 2]), [w, h * c])), [m, p, h, c]);
        const out = tf.matMul(tf.tensor4d(repeatPerBin(wy, lo, hi, p, h), [m, p, p, h]), g); // [m, P(j), P(i), C]
        parts.push(tf.transpose(out, [0, 2, 1, 3]));
      } else {
        const wyT = tf.tensor2d(wy.slice(lo * p * h, hi * p * h), [m * p, h]);
        const g = tf.reshape(tf.matMul(wyT, tf.reshape(fb, [h, w * c])), [m, p, w, c]); // [m, P(i), W, C]
        parts.push(tf.matMul(tf.tensor4d(repeatPerBin(wx, lo, hi, p, w), [m, p, p, w]), g)); // [m, P(i), P(j), C]
      }
      lo = hi;
    }
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
  });
}
