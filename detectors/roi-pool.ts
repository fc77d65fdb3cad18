/**
 * RoIPool (Fast R-CNN, Girshick 2015, Sec. 2.1; py-faster-rcnn / torchvision `roi_pool`): the RoI
 * is rounded to feature cells, cut into P x P bins of `floor`/`ceil` extent, and each bin takes
 * the max of its cells (an empty bin gives 0), as the Caffe layer the paper used.
 *
 * A custom op (tf.image ops have no gradient in tfjs): the forward pass takes each bin's max in a
 * TypedArray loop over C-contiguous feature rows and records the argmax; the gradient sends each
 * output's upstream gradient to its argmax cell only (Caffe's ROIPoolingLayer backward; ties go
 * to the first cell in row-major order). On wasm this is far faster than gathers + tf.max, and
 * reading the features back is free on cpu and wasm.
 *
 * A backend with resdet's RoIPool kernels (the native backend) runs the same loops in C++ on every
 * core (ROI_POOL / ROI_POOL_GRAD, src/backend/custom-kernels.ts), keeping the argmax as a tensor.
 */
import * as tf from '@tensorflow/tfjs-core';
import { hasKernel, ROI_POOL, ROI_POOL_GRAD } from '../src/backend/custom-kernels.ts';
import { validateRoIs, type RoIOpOptions } from './rois.ts';

export type RoIPoolOptions = RoIOpOptions;

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
  const rows: Int32Array[] = [];
  const cols: Int32Array[] = [];
  for (let k = 0; k < r; k++) {
    rows.push(binRanges(boxes[4 * k + 1], boxes[4 * k + 3], p, h, opts.spatialScale));
    cols.push(binRanges(boxes[4 * k], boxes[4 * k + 2], p, w, opts.spatialScale));
  }
  if (hasKernel(ROI_POOL)) return kernelRoIPool(features, rows, cols, batchIndices, p);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const f = (args[0] as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(r * p * p * c);
    // flat input index of each output's max (-1 for an empty bin), as Caffe's argmax_data
    const argmax = new Int32Array(r * p * p * c).fill(-1);
    for (let k = 0; k < r; k++) {
      const base = batchIndices[k] * h;
      for (let i = 0; i < p; i++) {
        for (let j = 0; j < p; j++) {
          const o = ((k * p + i) * p + j) * c;
          const [ys, ye, xs, xe] = [rows[k][2 * i], rows[k][2 * i + 1], cols[k][2 * j], cols[k][2 * j + 1]];
          if (ye <= ys || xe <= xs) continue; // empty bin: 0, no gradient
          out.fill(-Infinity, o, o + c);
          for (let y = ys; y < ye; y++) {
            for (let x = xs; x < xe; x++) {
              const src = ((base + y) * w + x) * c;
              // strict > keeps the first maximum in row-major order, as Caffe
              for (let q = 0; q < c; q++) {
                if (f[src + q] > out[o + q]) {
                  out[o + q] = f[src + q];
                  argmax[o + q] = src + q;
                }
              }
            }
          }
        }
      }
    }
    return {
      value: tf.tensor4d(out, [r, p, p, c]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const acc = new Float32Array(n * h * w * c);
        for (let o = 0; o < argmax.length; o++) if (argmax[o] >= 0) acc[argmax[o]] += g[o];
        return tf.tensor4d(acc, [n, h, w, c]);
      },
    };
  });
  return op(features) as tf.Tensor4D;
}

/** roiPool through the backend's kernels, with the same bins (rows / cols per RoI). */
function kernelRoIPool(features: tf.Tensor4D, rows: Int32Array[], cols: Int32Array[], batch: Int32Array, p: number): tf.Tensor4D {
  const flat = (parts: Int32Array[]) => {
    const out = new Int32Array(parts.length * 2 * p);
    parts.forEach((part, k) => out.set(part, k * 2 * p));
    return out;
  };
  const attrs = { rows: flat(rows), cols: flat(cols), batch, outputSize: p } as unknown as tf.NamedAttrMap;
  const shape = features.shape;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [value, argmax] = tf.engine().runKernel(ROI_POOL, { features: args[0] as tf.Tensor }, attrs) as tf.Tensor[];
    (args[1] as tf.GradSaveFunc)([argmax]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.engine().runKernel(ROI_POOL_GRAD, { dy: dy as tf.Tensor, argmax: saved[0] }, { shape } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  });
  return op(features) as tf.Tensor4D;
}
