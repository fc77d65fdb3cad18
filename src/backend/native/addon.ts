/**
 * The compiled native addon (./addon/*.cc over oneDNN, built by tools/native/build.ts into
 * ./build/resdet_native.node at `npm install`) and its typed surface. Every function validates
 * its arguments and throws a JS error (never crashes) on bad input; an error whose `code` is
 * `RESDET_NATIVE_UNSUPPORTED` means oneDNN has no implementation for that case, and the caller
 * falls back to the cpu kernel.
 *
 * Tensors are float32 typed arrays read and written in place; shapes and geometry travel as
 * small Int32Arrays (see each kernel's wrapper for the layout).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `info()` reports. */
export interface NativeInfo {
  /** oneDNN version, e.g. "2.6.3" */
  version: string;
  /** the instruction set oneDNN dispatched to, e.g. "avx2", "avx512_core" */
  isa: string;
  /** OpenMP threads of the calling thread's kernels */
  threads: number;
  /** weight tensors held in a reordered layout (inference cache) and their bytes */
  cachedWeights: number;
  cachedBytes: number;
}

type F32 = Float32Array;
type MaybeF32 = Float32Array | null;

export interface NativeAddon {
  info(): NativeInfo;
  setThreads(n: number): void;
  releaseWeights(id: number): void;
  /** out = act(conv(x, filter) + bias + add); geometry: see kernels/conv.ts */
  conv2d(x: F32, filter: F32, bias: MaybeF32, add: MaybeF32, out: F32, geometry: Int32Array, activation: number, alpha: number, weightId: number): void;
  conv2dBackpropInput(dy: F32, filter: F32, dx: F32, geometry: Int32Array, weightId: number): void;
  conv2dBackpropFilter(x: F32, dy: F32, dw: F32, geometry: Int32Array): void;
  /** shape: [batchA, batchB, M, K, N, transposeA, transposeB] */
  matmul(a: F32, b: F32, bias: MaybeF32, out: F32, shape: Int32Array, activation: number, alpha: number): void;
  /** geometry: [N, H, W, C, FH, FW, OH, OW, sh, sw, pt, pl, pb, pr] */
  pool(x: F32, out: F32, geometry: Int32Array, isMax: number): void;
  avgPoolGrad(dy: F32, dx: F32, geometry: Int32Array): void;
  maxPoolGrad(dy: F32, x: F32, dx: F32, geometry: Int32Array): void;
  binary(op: number, a: F32, aShape: Int32Array, b: F32, bShape: Int32Array, out: F32, outShape: Int32Array): void;
  unary(op: number, x: F32, out: F32, alpha: number): void;
  reduce(op: number, x: F32, out: F32, outer: number, r: number, inner: number): void;
  slice(x: F32, xShape: Int32Array, begin: Int32Array, out: F32, outShape: Int32Array): void;
  pad(x: F32, xShape: Int32Array, before: Int32Array, out: F32, outShape: Int32Array, value: number): void;
  /** training batch norm over all rows of x [rows, channels]: writes y and the batch mean / biased variance */
  bnTrainForward(x: F32, gamma: F32, beta: F32, y: F32, mean: F32, variance: F32, channels: number, eps: number): void;
  bnTrainBackward(dy: F32, x: F32, gamma: F32, mean: F32, variance: F32, dx: F32, dgamma: F32, dbeta: F32, channels: number, eps: number): void;
  roiPoolForward(features: F32, shape: Int32Array, rows: Int32Array, cols: Int32Array, batch: Int32Array, outputSize: number, out: F32, argmax: Int32Array): void;
  roiPoolBackward(dy: F32, argmax: Int32Array, channels: number, dx: F32): void;
  sparseGather(features: F32, channels: number, outRow: Int32Array, srcRow: Int32Array, weight: F32, starts: Int32Array, out: F32): void;
  sparseScatter(dy: F32, channels: number, outRow: Int32Array, srcRow: Int32Array, weight: F32, dx: F32): void;
  batchNorm(x: F32, mean: F32, variance: F32, offset: MaybeF32, scale: MaybeF32, out: F32, channels: number, eps: number): void;
}

/**
 * Where the build puts the addon: ./build beside this module. The compiled package's copy of
 * this module (dist/src/backend/native/, see docs/api.md) loads the one `npm install` built
 * beside the sources, src/backend/native/build/. RESDET_NATIVE_ADDON names another file (e.g.
 * to test the fallback).
 */
export const ADDON_PATH = process.env.RESDET_NATIVE_ADDON || builtAddon(path.dirname(fileURLToPath(import.meta.url)));

/** `<here>/build/resdet_native.node`, or for `<package>/dist/src/backend/native` the package's `src/backend/native/build/`. */
export function builtAddon(here: string): string {
  const root = path.resolve(here, '../../../..');
  const compiled = path.relative(root, here) === path.join('dist', 'src', 'backend', 'native');
  return path.join(compiled ? path.join(root, 'src', 'backend', 'native') : here, 'build', 'resdet_native.node');
}

let loaded: NativeAddon | undefined;

/**
 * Loads the addon once. Throws an Error whose message says why it is unavailable (not built:
 * how to build it; or the loader's first line, e.g. a missing libdnnl.so.2).
 */
export function loadAddon(): NativeAddon {
  if (loaded) return loaded;
  if (!fs.existsSync(ADDON_PATH)) {
    throw new Error(`native addon not built (${ADDON_PATH} is missing: apt-get install g++ libdnnl-dev, then npm run build:native)`);
  }
  const require = createRequire(import.meta.url);
  loaded = require(ADDON_PATH) as NativeAddon;
  return loaded;
}
