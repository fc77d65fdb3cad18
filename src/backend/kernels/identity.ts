/**
 * Identity and same-dtype Cast for the wasm backend without a copy. The stock kernels copy the
 * whole buffer; gradients call them hundreds of times per training step (tf.grad clones, and
 * every broadcast-op gradient casts float32 to float32): 435 Identity + 177 Cast calls, 4% of a
 * CIFAR ResNet-20 step. Tensor data is immutable in tfjs, so the output can share the input's
 * buffer with one more reference, exactly as the stock wasm Reshape and the cpu backend's
 * Identity do.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runStock, type WasmKernelArgs } from './call.ts';

/** The kernelFunc registered for Identity on wasm. */
export function identity(args: Pick<WasmKernelArgs, 'inputs' | 'backend'>): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The kernelFunc registered for Cast on wasm: shares data when the dtype does not change. */
export function cast(args: WasmKernelArgs): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (dtype !== x.dtype) return runStock(args.backend, tf.Cast, args.inputs, args.attrs);
  return identity(args);
}

/** Registration records for `tf.registerKernel`. */
export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};
export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: cast as unknown as tf.KernelFunc,
};
