/**
 * Conv2DBackpropFilter for the wasm backend (stock tfjs-backend-wasm 4.22 has none, so a conv
 * net cannot train there). The weight gradient of y = conv2d(x, w, stride s, pad p) is
 *
 *   dw[ky, kx, ci, co] = sum_{n, oy, ox} x[n, oy*s + ky - pt, ox*s + kx - pl, ci] * dy[n, oy, ox, co]
 *
 * which is itself a stride-1 convolution whose "batch" is ci, whose "channels" are n, and whose
 * filter is dy dilated by s (the standard identity used by TF's and cuDNN's backward-filter
 * algorithms): conv2d(x^T [Ci, H, W, N], dy^T [OH, OW, N, Co], dilation s) -> [Ci, kh, kw, Co].
 * It runs on XNNPACK's convolution, about 2x the forward conv's time. A 1x1 unpadded kernel is a
 * plain matMul, dw = x[:, ::s, ::s]^T [Ci, M] x dy [M, Co], which is faster still.
 *
 * Shapes: x [N, H, W, Ci] (NHWC only, as wasm's Conv2D), dy [N, OH, OW, Co] -> dw [kh, kw, Ci, Co].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { conv2d, free, matMul, reshape, run, slice, transpose, type WasmKernelArgs } from './call.ts';

/** The kernelFunc registered for Conv2DBackpropFilter on wasm. */
export function conv2DBackpropFilter(args: WasmKernelArgs): tf.TensorInfo {
  const { backend } = args;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new Error(`resdet wasm Conv2DBackpropFilter supports NHWC only, got dataFormat '${dataFormat}'`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { top, left, bottom, right } = info.padInfo;

  if (kh === 1 && kw === 1 && top === 0 && left === 0 && bottom === 0 && right === 0) {
    return pointwise(backend, x, dy, { n, h, w, ci, co, oh, ow, sh, sw });
  }

  // Pad/crop x so that the dilated-dy "filter" slides over exactly kh x kw positions:
  // rows used = top + H + bottom' with bottom' = kh + (OH-1)*sh - H - top (negative: crop).
  const padBottom = kh + (oh - 1) * sh - h - top;
  const padRight = kw + (ow - 1) * sw - w - left;
  const xUsed = padBottom < 0 || padRight < 0
    ? slice(backend, x, [0, 0, 0, 0], [n, h + Math.min(padBottom, 0), w + Math.min(padRight, 0), ci])
    : x;
  const xT = transpose(backend, xUsed, [3, 1, 2, 0]); // [Ci, H, W, N]
  if (xUsed !== x) free(backend, xUsed);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, N, Co]
  const r = conv2d(backend, xT, dyT, [1, 1],
    [[top, Math.max(padBottom, 0)], [left, Math.max(padRight, 0)]], [sh, sw]); // [Ci, kh, kw, Co]
  free(backend, xT, dyT);
  const dw = transpose(backend, r, [1, 2, 0, 3]);
  free(backend, r);
  return dw;
}

/** 1x1, unpadded: dw[0, 0] = x[:, ::sh, ::sw, :]^T x dy, one GEMM of [Ci, M] x [M, Co]. */
function pointwise(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  d: { n: number; h: number; w: number; ci: number; co: number; oh: number; ow: number; sh: number; sw: number },
): tf.TensorInfo {
  const strided = d.sh > 1 || d.sw > 1 || d.oh !== d.h || d.ow !== d.w;
  const xs = strided
    ? run(backend, tf.StridedSlice, { x }, {
        begin: [0, 0, 0, 0], end: [d.n, (d.oh - 1) * d.sh + 1, (d.ow - 1) * d.sw + 1, d.ci], strides: [1, d.sh, d.sw, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      })
    : x;
  const m = d.n * d.oh * d.ow;
  const x2 = reshape(backend, xs, [1, m, d.ci]);
  if (xs !== x) free(backend, xs);
  const xT = transpose(backend, x2, [0, 2, 1]); // [1, Ci, M]
  const dy2 = reshape(backend, dy, [1, m, d.co]);
  const prod = matMul(backend, xT, dy2); // [1, Ci, Co]
  free(backend, x2, xT, dy2);
  const dw = reshape(backend, prod, [1, 1, d.ci, d.co]);
  free(backend, prod);
  return dw;
}

/** Registration record for `tf.registerKernel`. */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
