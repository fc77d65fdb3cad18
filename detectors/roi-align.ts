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
 * boxes, as approximate joint training, Faster R-CNN Sec. 3.2). Each RoI's window of cells with
 * non-zero weight is gathered ([hm, wm, C], a scatter-add gradient, gather-rows.ts), then two
 * batched matMuls contract its columns and rows: about 2 P hm wm C multiply-adds per RoI instead
 * of a dense map-wide contraction. RoIs go in chunks so a chunk's windows stay under maxElements.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from './gather-rows.ts';
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

/** First and last index with a non-zero weight in any of the P rows of `w` [P, size]. */
function support(w: Float32Array, o: number, p: number, size: number): [number, number] {
  let lo = size;
  let hi = -1;
  for (let q = 0; q < p; q++) {
    for (let v = 0; v < size; v++) {
      if (w[o + q * size + v] !== 0) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  return hi < 0 ? [0, 0] : [lo, hi];
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
  // the window of map cells each RoI's weights touch: [y0, x0, rows, cols]
  const win = new Int32Array(4 * r);
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
    const [ylo, yhi] = support(wy, k * p * h, p, h);
    const [xlo, xhi] = support(wx, k * p * w, p, w);
    win.set([ylo, xlo, yhi - ylo + 1, xhi - xlo + 1], 4 * k);
  }
  const limit = opts.maxElements ?? MAX_ELEMENTS;
  return tf.tidy(() => {
    const table = tf.reshape(features, [n * h * w, c]);
    const parts: tf.Tensor[] = [];
    for (let lo = 0; lo < r; ) {
      // a chunk shares one window size (its largest RoI's); its gathered windows stay under limit
      let hi = lo;
      let hm = 1;
      let wm = 1;
      while (hi < r) {
        const nh = Math.max(hm, win[4 * hi + 2]);
        const nw = Math.max(wm, win[4 * hi + 3]);
        if (hi > lo && (hi - lo + 1) * Math.max(nh * nw, nh * p, p * p) * c > limit) break;
        hm = nh;
        wm = nw;
        hi++;
      }
      const m = hi - lo;
      const rows = new Int32Array(m * hm * wm);
      const wxWin = new Float32Array(m * hm * p * wm); // [m, hm, P, wm]: Wx repeated per window row
      const wyWin = new Float32Array(m * p * hm); // [m, P, hm]
      for (let k = 0; k < m; k++) {
        const q = lo + k;
        const [y0, x0] = [win[4 * q], win[4 * q + 1]];
        const base = batchIndices[q] * h * w;
        for (let y = 0; y < hm; y++) {
          // cells past the map edge get a clamped index and zero weight
          const yy = Math.min(y0 + y, h - 1);
          for (let x = 0; x < wm; x++) rows[(k * hm + y) * wm + x] = base + yy * w + Math.min(x0 + x, w - 1);
        }
        for (let j = 0; j < p; j++) {
          for (let x = 0; x < wm && x0 + x < w; x++) {
            const v = wx[(q * p + j) * w + x0 + x];
            for (let y = 0; y < hm; y++) wxWin[((k * hm + y) * p + j) * wm + x] = v;
          }
          for (let y = 0; y < hm && y0 + y < h; y++) wyWin[(k * p + j) * hm + y] = wy[(q * p + j) * h + y0 + y];
        }
      }
      const windows = tf.reshape(gatherRows(table, rows), [m, hm, wm, c]);
      const byCol = tf.matMul(tf.tensor4d(wxWin, [m, hm, p, wm]), windows); // [m, hm, P(j), C]
      const out = tf.matMul(tf.tensor3d(wyWin, [m, p, hm]), tf.reshape(byCol, [m, hm, p * c])); // [m, P(i), P(j) * C]
      parts.push(tf.reshape(out, [m, p, p, c]));
      lo = hi;
    }
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as tf.Tensor4D;
  });
}
