/**
 * Sum and Mean over leading axes for the wasm backend. Batch norm reduces [N, H, W, C] over
 * (N, H, W) for its statistics and for every per-channel gradient; the stock wasm kernels first
 * transpose the reduced axes innermost (a full copy), then reduce, and together cost as much as
 * the forward convolutions of a ResNet training step. A reduction over leading axes is a column
 * sum of the [M, C] view, done here in one pass with float64 accumulators. Other axis sets use
 * the stock kernels.
 *
 * Shapes: x [d0, ..., dk-1, ...rest] reduced over axes 0..k-1 -> [...rest] (keepDims: [1, ..., 1, ...rest]).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runStock } from './call.ts';

/** Number of leading axes reduced when `axis` is exactly 0..k-1 (k < rank), else 0. */
function leadingAxes(axis: number | number[], shape: number[]): number {
  const axes = [...tf.util.parseAxisParam(axis, shape)].sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function reduceLeading(name: string, divide: boolean) {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.NamedAttrMap }): tf.TensorInfo => {
    const { backend } = args;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape) : 0;
    if (k === 0) return runStock(backend, name, args.inputs, args.attrs);
    const rest = x.shape.slice(k);
    const cols = tf.util.sizeFromShape(rest);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, k));
    const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest, 'float32');
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    const acc = new Float64Array(cols);
    for (let r = 0, off = 0; r < rows; r++, off += cols) {
      for (let j = 0; j < cols; j++) acc[j] += src[off + j];
    }
    const scale = divide ? 1 / rows : 1;
    for (let j = 0; j < cols; j++) dst[j] = acc[j] * scale;
    return out;
  };
}

/** Registration records for `tf.registerKernel`. */
export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: reduceLeading(tf.Sum, false) as unknown as tf.KernelFunc,
};
export const meanConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: 'wasm',
  kernelFunc: reduceLeading(tf.Mean, true) as unknown as tf.KernelFunc,
};
