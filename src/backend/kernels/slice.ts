/**
 * Slice for the wasm backend, replacing the stock kernel whose rank > 4 path is per-element and
 * ~150x slower than a copy (reshape-and-slice is how option-A shortcuts and space-to-depth
 * subsample without a gradient-less StridedSlice). Copies runs with `stridedCopy`.
 *
 * Shapes: x [...], begin/size per axis (size -1 = to the end) -> [...size].
 */
import * as tf from '@tensorflow/tfjs-core';
import { runStock, type WasmKernelArgs } from './call.ts';
import { type ElementArray, stridedCopy } from './strided-copy.ts';

/** The kernelFunc registered for Slice on wasm. */
export function slice(args: WasmKernelArgs): tf.TensorInfo {
  const { backend } = args;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  if (x.dtype === 'string' || x.dtype === 'complex64') return runStock(backend, tf.Slice, args.inputs, args.attrs);
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const out = backend.makeOutput(s, x.dtype);
  // Views after the allocation: growing the heap detaches older ones.
  stridedCopy(backend.typedArrayFromHeap(x) as ElementArray, x.shape, b, b.map(() => 1), s,
    backend.typedArrayFromHeap(out) as ElementArray);
  return out;
}

/** Registration record for `tf.registerKernel`. */
export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'wasm',
  kernelFunc: slice as unknown as tf.KernelFunc,
};
