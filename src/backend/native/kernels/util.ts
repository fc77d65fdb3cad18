/**
 * Shared by the native kernels: the cpu kernel to fall back to, and the call that runs a native
 * implementation and falls back when oneDNN has none for the case (counted per kernel, so tests
 * and benchmarks can show that the hot path never falls back).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.ts';

/** What the engine passes to a native kernelFunc. */
export interface NativeKernelArgs {
  /** required inputs are present; optional ones (bias, offset, ...) are read as `| undefined` */
  inputs: Record<string, tf.TensorInfo>;
  backend: NativeBackend;
  attrs: tf.NamedAttrMap;
}

/** Runs tfjs-backend-cpu's implementation of `name` on the native backend (same data layout). */
export function runCpu(name: string, args: NativeKernelArgs): tf.TensorInfo | tf.TensorInfo[] {
  const config = tf.getKernel(name, 'cpu');
  if (!config) throw new Error(`resdet native: no cpu kernel '${name}' to fall back to`);
  return config.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
}

/** Whether every input is float32. */
export function allFloat32(...ts: Array<tf.TensorInfo | undefined>): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

/**
 * Runs `native` (which returns the output or undefined when the case is not one it handles); on
 * undefined, or when oneDNN reports the case unimplemented, runs the cpu kernel instead.
 */
export function nativeOr(name: string, args: NativeKernelArgs, native: () => tf.TensorInfo | undefined): tf.TensorInfo | tf.TensorInfo[] {
  let out: tf.TensorInfo | undefined;
  try {
    out = native();
  } catch (err) {
    if ((err as { code?: string }).code !== 'RESDET_NATIVE_UNSUPPORTED') throw err;
  }
  if (out) return out;
  const backend = args.backend;
  backend.fallbacks.set(name, (backend.fallbacks.get(name) ?? 0) + 1);
  return runCpu(name, args);
}

/** Activation names of tfjs's fused ops -> the addon's codes; undefined: not supported natively. */
export function activationCode(activation: string | undefined): number | undefined {
  const codes: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, sigmoid: 4, elu: 5 };
  return codes[activation ?? 'linear'];
}
