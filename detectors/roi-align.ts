/**
 * RoIAlign (Mask R-CNN, He et al. 2017, Sec. 3; torchvision `roi_align`): each RoI is cut into
 * P x P bins; each bin averages `sampling x sampling` bilinearly interpolated points, with
 * torchvision's border rules (points beyond one cell outside the map give 0, points in
 * [-1, 0) clamp to 0). `aligned` shifts the box by half a cell (detectron2's pixel model);
 * without it a RoI is at least 1x1 cell, as in the original op.
 *
 * tf.image.cropAndResize has no gradient in tfjs, so this is a custom op: bilinear sampling
 * averaged over a bin is separable, `out[r, i, j, c] = sum_y sum_x Wy[r, i, y] Wx[r, j, x]
 * F[b_r, y, x, c]`, with a handful of non-zero weights per bin computed in JS from the box (no
 * gradient w.r.t. the boxes, as approximate joint training, Faster R-CNN Sec. 3.2). The forward
 * pass is that sparse sum over C-contiguous feature rows, and the gradient is its transpose (a
 * scatter-add into the feature map), both as TypedArray loops: on wasm they beat every
 * gather/matMul formulation tried (GatherV2 and batched small matMuls are slow kernels there) and
 * need no memory beyond the output. Reading the features back is free on cpu and wasm.
 *
 * A backend with resdet's sparse-map kernels (the native backend) runs the same triples in C++
 * on every core (SPARSE_GATHER / SPARSE_SCATTER, src/backend/custom-kernels.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel, SPARSE_GATHER, SPARSE_SCATTER } from '../src/backend/custom-kernels.ts';
import { validateRoIs, type RoIOpOptions } from './rois.ts';

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

/** The non-zero entries of each of the P rows of a dense [P, size] weight matrix. */
interface SparseRows {
  /** start of bin p's entries in index/weight: offsets[p] .. offsets[p + 1] */
  offsets: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

function sparseRows(dense: Float32Array, p: number, size: number): SparseRows {
  const offsets = new Int32Array(p + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let q = 0; q < p; q++) {
    for (let v = 0; v < size; v++) {
      if (dense[q * size + v] !== 0) {
        index.push(v);
        weight.push(dense[q * size + v]);
      }
    }
    offsets[q + 1] = index.length;
  }
  return { offsets, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/**
 * Visits every (output row, input row, weight) triple of the op: output row `((r P + i) P + j)`
 * of [R * P * P, C] takes `weight` times input row `(b H + y) W + x` of [N * H * W, C].
 */
type Visit = (outRow: number, inRow: number, weight: number) => void;

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
  const offset = opts.aligned ? 0.5 : 0;
  const ys: SparseRows[] = [];
  const xs: SparseRows[] = [];
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
    ys.push(sparseRows(axisWeights(y1, rh, p, gy, h), p, h));
    xs.push(sparseRows(axisWeights(x1, rw, p, gx, w), p, w));
  }
  const visit = (fn: Visit) => {
    for (let k = 0; k < r; k++) {
      const sy = ys[k];
      const sx = xs[k];
      const base = batchIndices[k] * h;
      for (let i = 0; i < p; i++) {
        for (let a = sy.offsets[i]; a < sy.offsets[i + 1]; a++) {
          const rowBase = (base + sy.index[a]) * w;
          const wyv = sy.weight[a];
          for (let j = 0; j < p; j++) {
            const outRow = (k * p + i) * p + j;
            for (let b = sx.offsets[j]; b < sx.offsets[j + 1]; b++) fn(outRow, rowBase + sx.index[b], wyv * sx.weight[b]);
          }
        }
      }
    }
  };
  if (hasKernel(SPARSE_GATHER)) return sparseMap(features, visit, r, p);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const f = (args[0] as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(r * p * p * c);
    visit((o, s, wt) => {
      const oo = o * c;
      const ss = s * c;
      for (let q = 0; q < c; q++) out[oo + q] += wt * f[ss + q];
    });
    return {
      value: tf.tensor4d(out, [r, p, p, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const acc = new Float32Array(n * h * w * c);
        visit((o, s, wt) => {
          const oo = o * c;
          const ss = s * c;
          for (let q = 0; q < c; q++) acc[ss + q] += wt * g[oo + q];
        });
        return tf.tensor4d(acc, [n, h, w, c]);
      },
    };
  });
  return op(features) as tf.Tensor4D;
}

/**
 * The op through the backend's sparse-map kernels: the visited triples as arrays, grouped by RoI
 * (each RoI writes only its own output rows, so the kernel may split RoIs between threads).
 */
function sparseMap(features: tf.Tensor4D, visit: (fn: Visit) => void, r: number, p: number): tf.Tensor4D {
  const outRows: number[] = [];
  const srcRows: number[] = [];
  const weights: number[] = [];
  const starts = new Int32Array(r + 1);
  let roi = 0;
  visit((o, s, wt) => {
    const k = Math.floor(o / (p * p));
    while (roi < k) starts[++roi] = outRows.length;
    outRows.push(o);
    srcRows.push(s);
    weights.push(wt);
  });
  while (roi < r) starts[++roi] = outRows.length;
  const attrs = { outRow: Int32Array.from(outRows), srcRow: Int32Array.from(srcRows), weight: Float32Array.from(weights), starts };
  const shape = features.shape;
  const outShape = [r, p, p, shape[3]];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.engine().runKernel(SPARSE_GATHER, { features: args[0] as tf.Tensor }, { ...attrs, outShape } as unknown as tf.NamedAttrMap) as tf.Tensor,
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.engine().runKernel(SPARSE_SCATTER, { dy: dy as tf.Tensor }, { ...attrs, shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
  }));
  return op(features) as tf.Tensor4D;
}
