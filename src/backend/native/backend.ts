/**
 * resdet's native CPU backend ('native'): tfjs-backend-cpu's backend with its data in JS typed
 * arrays, every cpu kernel registered under the new name, and the kernels a ResNet / Faster
 * R-CNN training step spends its time in replaced by oneDNN and multi-threaded C++ (./kernels).
 * The typed arrays are read and written in place by the addon, so no tensor is copied on its
 * way to C++, and memory is the process's, not a 4 GB wasm heap.
 *
 * Weights in oneDNN's preferred layout are cached per tensor (by dataId): at inference the same
 * filter meets the same primitive every call and is reordered once. The cache entry is freed
 * when tfjs frees the tensor's data (`disposeData`), so `tf.memory()` leak checks still hold and
 * native memory stays flat.
 */
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import type { backend_util } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { configuredThreads } from '../threads.ts';
import { loadAddon, type NativeAddon, type NativeInfo } from './addon.ts';
import { NATIVE_KERNELS } from './kernels/index.ts';
import { BufferPool } from './pool.ts';

export const NATIVE_BACKEND = 'native';

/**
 * Bytes of freed output buffers kept for reuse: RESDET_NATIVE_POOL_MB, default a quarter of the
 * machine's memory up to 8 GB (a training step frees and reallocates its whole working set; a
 * pool smaller than it sends the rest to fresh, page-faulting allocations every step).
 */
const POOL_BYTES = Number(process.env.RESDET_NATIVE_POOL_MB) > 0 ? Number(process.env.RESDET_NATIVE_POOL_MB) * 2 ** 20 : Math.min(os.totalmem() / 4, 8 * 2 ** 30);

/** The cpu backend with the addon beside it. */
export class NativeBackend extends MathBackendCPU {
  readonly addon: NativeAddon;
  private readonly weightIds = new Map<object, number>();
  private nextWeightId = 1;
  /** kernel name -> calls that fell back to the cpu kernel (oneDNN had no implementation) */
  readonly fallbacks = new Map<string, number>();
  /** the native kernels' output buffers, reused once tfjs frees them (./pool.ts) */
  readonly pool = new BufferPool(POOL_BYTES);

  constructor(addon: NativeAddon) {
    super();
    this.addon = addon;
    // tfjs-backend-cpu's first write prints "install our node backend" in Node: this is one.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /**
   * The float32 values of a tensor, as stored (no copy). Some cpu kernels store a float32
   * tensor's values in another array type (e.g. a plain or Int32 array from a fill or a cast);
   * those are converted once and stored back as a Float32Array.
   */
  f32(t: tf.TensorInfo): Float32Array {
    const entry = this.data.get(t.dataId);
    if (!(entry.values instanceof Float32Array)) entry.values = Float32Array.from(entry.values as ArrayLike<number>);
    return entry.values;
  }

  /** An output buffer of `length` floats, contents undefined (the kernel writes every element). */
  alloc(length: number): Float32Array {
    return this.pool.alloc(length);
  }

  /** A new float32 tensor owning `values`. */
  output(shape: number[], values: Float32Array): tf.TensorInfo {
    return this.makeTensorInfo(shape, 'float32', values);
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
    const dataId = super.write(values, shape, dtype);
    this.pool.retain(values);
    return dataId;
  }

  override move(dataId: object, values: backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    super.move(dataId, values, shape, dtype, refCount);
    this.pool.retain(values);
  }

  /** As the cpu backend, but a pooled buffer is copied: the reader may keep it after disposal. */
  override readSync(dataId: object): backend_util.BackendValues {
    const values = super.readSync(dataId);
    return this.pool.owns(values) ? values.slice() : values;
  }

  /** The id under which the addon may cache a reordered copy of this weight tensor. */
  weightId(t: tf.TensorInfo): number {
    let id = this.weightIds.get(t.dataId);
    if (id === undefined) {
      id = this.nextWeightId++;
      this.weightIds.set(t.dataId, id);
    }
    return id;
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const freed = super.disposeData(dataId, force);
    if (!this.data.has(dataId)) {
      this.pool.release(values);
      const id = this.weightIds.get(dataId);
      if (id !== undefined) {
        this.weightIds.delete(dataId);
        this.addon.releaseWeights(id);
      }
    }
    return freed;
  }

  override dispose(): void {
    for (const id of this.weightIds.values()) this.addon.releaseWeights(id);
    this.weightIds.clear();
    this.pool.clear();
    super.dispose();
  }
}

let registered = false;

/**
 * Registers the 'native' backend and its kernels (once). Throws when the addon cannot be loaded,
 * with the reason (the backend ladder then falls through to wasm).
 */
export function registerNativeBackend(): void {
  if (registered) return;
  const addon = loadAddon();
  addon.setThreads(configuredThreads());
  tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(addon), 0);
  // Every cpu kernel works unchanged on a subclass of the cpu backend ...
  for (const config of tf.getKernelsForBackend('cpu')) {
    tf.registerKernel({ ...config, backendName: NATIVE_BACKEND });
  }
  // ... and the hot ones run natively.
  for (const config of NATIVE_KERNELS) {
    if (tf.getKernel(config.kernelName, NATIVE_BACKEND)) tf.unregisterKernel(config.kernelName, NATIVE_BACKEND);
    tf.registerKernel({ ...config, backendName: NATIVE_BACKEND });
  }
  registered = true;
}

/** The addon's report (oneDNN version, ISA, threads) once the backend is registered. */
export function nativeInfo(): NativeInfo {
  return loadAddon().info();
}

/** Sets the threads of this thread's native kernels (`--threads N`). */
export function setNativeThreads(n: number): void {
  loadAddon().setThreads(n);
}
