/**
 * Helpers for resdet's composite wasm kernels: a kernel written on top of other wasm kernels
 * calls their kernelFuncs directly (as tfjs-backend-cpu's composite kernels do), so the engine
 * neither records nor tracks the intermediates; each helper's result is a TensorInfo with one
 * reference in the backend, and `free` releases it. Nothing here creates a `tf.Tensor`, so a
 * kernel built from these helpers cannot leak engine tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** What the engine passes to a wasm kernelFunc. */
export interface WasmKernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}

/** Kernels that a resdet kernel replaced: their stock implementation, still callable. */
const stockKernels = new Map<string, tf.KernelFunc>();

/** Remembers the stock wasm kernelFunc of `name` before resdet overrides it (once). */
export function rememberStock(name: string, resdetFunc: tf.KernelFunc): void {
  const current = tf.getKernel(name, 'wasm');
  if (current && current.kernelFunc !== resdetFunc && !stockKernels.has(name)) {
    stockKernels.set(name, current.kernelFunc);
  }
}

/** Whether stock tfjs-backend-wasm has a kernel `name` (that resdet replaced or could replace). */
export function isStock(name: string): boolean {
  return stockKernels.has(name);
}

/** Puts the stock wasm kernel `name` back in the registry (undoing resdet's replacement). */
export function restoreStock(name: string): void {
  const func = stockKernels.get(name);
  if (!func) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: func });
}

/** Runs the stock wasm kernel `name` (the one resdet replaced, else the registered one). */
export function runStock(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const func = stockKernels.get(name) ?? tf.getKernel(name, 'wasm')?.kernelFunc;
  if (!func) throw new Error(`resdet: wasm kernel '${name}' is not registered`);
  return func({ inputs, attrs, backend }) as tf.TensorInfo;
}

/** Runs the wasm kernel currently registered under `name` (resdet's when it replaced one). */
export function run(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`resdet: wasm kernel '${name}' is not registered`);
  return config.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo;
}

/** Releases intermediates made by `run` (reshape results share data and hold a reference). */
export function free(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Transpose `x` by `perm`. */
export function transpose(backend: BackendWasm, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return run(backend, tf.Transpose, { x }, { perm });
}

/** Reshape `x` (shares its data). */
export function reshape(backend: BackendWasm, x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
  return run(backend, tf.Reshape, { x }, { shape });
}

/** Plain [B, M, K] x [B, K, N] matMul. */
export function matMul(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return runStock(backend, tf.BatchMatMul, { a, b }, { transposeA: false, transposeB: false });
}

/** Explicit-padding NHWC conv2d: x [N, H, W, Cin], filter [kh, kw, Cin, Cout]. */
export function conv2d(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  strides: [number, number],
  pads: [[number, number], [number, number]],
  dilations: [number, number] = [1, 1],
): tf.TensorInfo {
  const pad = [[0, 0], pads[0], pads[1], [0, 0]] as tf.backend_util.ExplicitPadding;
  return run(backend, tf.Conv2D, { x, filter }, { strides, pad, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap);
}

/** x[begin : begin + size] (size -1 = to the end). */
export function slice(backend: BackendWasm, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  return run(backend, tf.Slice, { x }, { begin, size });
}
