/**
 * resdet's own kernels for the wasm backend: the two that stock tfjs-backend-wasm 4.22 lacks for
 * training a conv net (Conv2DBackpropFilter, UnsortedSegmentSum) and faster replacements of stock
 * ones found slow by per-kernel profiling (tools/bench/kernels.ts). Each is tested against the
 * cpu backend in test/src/backend/kernels.test.ts.
 *
 * Registration is idempotent: calling `registerWasmKernels` again replaces resdet's kernels
 * with themselves, silently. It must run after '@tensorflow/tfjs-backend-wasm' is imported
 * (its import registers the stock kernels, which would otherwise overwrite resdet's).
 */
import * as tf from '@tensorflow/tfjs-core';
import { isStock, rememberStock, restoreStock } from './call.ts';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.ts';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.ts';
import { batchMatMulConfig } from './batch-mat-mul.ts';
import { sliceConfig } from './slice.ts';
import { tileConfig } from './tile.ts';
import { castConfig, identityConfig } from './identity.ts';
import { maxPoolGradConfig } from './max-pool-grad.ts';

/** Every kernel resdet registers for 'wasm'. */
export const WASM_KERNELS: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  unsortedSegmentSumConfig,
  batchMatMulConfig,
  sliceConfig,
  tileConfig,
  identityConfig,
  castConfig,
  maxPoolGradConfig,
];

/** Options of `registerWasmKernels`. */
export interface RegisterOptions {
  /** also replace stock wasm kernels with resdet's faster ones (default true); false registers
   * only the missing kernels, e.g. to measure the stock ones (`npm run bench:kernels -- --stock`) */
  replaceStock?: boolean;
}

/** Registers (or re-registers) resdet's wasm kernels, keeping the stock ones they replace callable. */
export function registerWasmKernels(options: RegisterOptions = {}): void {
  const replaceStock = options.replaceStock ?? true;
  for (const config of WASM_KERNELS) {
    rememberStock(config.kernelName, config.kernelFunc);
    if (!replaceStock && isStock(config.kernelName)) {
      restoreStock(config.kernelName);
      continue;
    }
    // unregister first: registerKernel on an existing key logs a warning.
    if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
