/**
 * UnsortedSegmentSum for the wasm backend, missing in stock tfjs-backend-wasm 4.22; it is the
 * gradient of gather (tf.gather's gradient scatters dy back with it), so embedding lookups and
 * RoI sampling cannot train on wasm without it.
 *
 *   out[s, ...] = sum_{i : ids[i] = s} x[i, ...],   out [numSegments, ...x.shape[ids.rank:]]
 *
 * A direct loop over the wasm heap: one pass over x, no intermediate tensors. Ids outside
 * [0, numSegments) are dropped, as TensorFlow's UnsortedSegmentSum does on CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelArgs } from './call.ts';

/** The kernelFunc registered for UnsortedSegmentSum on wasm. */
export function unsortedSegmentSum(args: WasmKernelArgs): tf.TensorInfo {
  const { backend } = args;
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const idRank = segmentIds.shape.length;
  const idShape = x.shape.slice(0, idRank);
  if (idShape.some((d, i) => d !== segmentIds.shape[i])) {
    throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
  }
  const inner = tf.util.sizeFromShape(x.shape.slice(idRank));
  const outShape = [numSegments, ...x.shape.slice(idRank)];
  // Allocate first: growing the wasm heap detaches every view made before.
  const out = backend.makeOutput(outShape, x.dtype);
  const outData = backend.typedArrayFromHeap(out);
  const xData = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  outData.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) outData[dst + j] += xData[src + j];
  }
  return out;
}

/** Registration record for `tf.registerKernel`. */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
