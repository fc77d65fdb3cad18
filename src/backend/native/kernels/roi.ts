/**
 * RoIPool and RoIAlign's sparse bilinear map on the native backend (src/backend/native/addon/
 * roi.cc), used by detectors/roi-pool.ts and detectors/roi-align.ts in place of their TypedArray
 * loops: the same sums, on both cores.
 */
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { ROI_POOL, ROI_POOL_GRAD, SPARSE_GATHER, SPARSE_SCATTER } from '../../custom-kernels.ts';
import type { NativeKernelArgs } from './util.ts';

function float32(t: tf.TensorInfo, kernel: string): void {
  if (t.dtype !== 'float32') throw new Error(`${kernel}: expected float32, got ${t.dtype}`);
}

export const roiPoolConfig: tf.KernelConfig = {
  kernelName: ROI_POOL,
  backendName: 'native',
  kernelFunc: (k) => {
    const { inputs, backend, attrs } = k as unknown as NativeKernelArgs;
    const { features } = inputs;
    float32(features, ROI_POOL);
    const { rows, cols, batch, outputSize } = attrs as unknown as { rows: Int32Array; cols: Int32Array; batch: Int32Array; outputSize: number };
    const c = features.shape[3];
    const outShape = [batch.length, outputSize, outputSize, c];
    const size = util.sizeFromShape(outShape);
    const out = backend.alloc(size);
    const argmax = new Int32Array(size);
    backend.addon.roiPoolForward(backend.f32(features), Int32Array.from(features.shape), rows, cols, batch, outputSize, out, argmax);
    return [backend.output(outShape, out), backend.makeTensorInfo(outShape, 'int32', argmax)];
  },
};

export const roiPoolGradConfig: tf.KernelConfig = {
  kernelName: ROI_POOL_GRAD,
  backendName: 'native',
  kernelFunc: (k) => {
    const { inputs, backend, attrs } = k as unknown as NativeKernelArgs;
    const { dy, argmax } = inputs;
    float32(dy, ROI_POOL_GRAD);
    const shape = attrs.shape as number[];
    const dx = backend.alloc(util.sizeFromShape(shape));
    backend.addon.roiPoolBackward(backend.f32(dy), backend.data.get(argmax.dataId).values as Int32Array, shape[shape.length - 1], dx);
    return backend.output(shape, dx);
  },
};

interface SparseAttrs {
  outRow: Int32Array;
  srcRow: Int32Array;
  weight: Float32Array;
  starts: Int32Array;
  outShape: number[];
  shape: number[];
}

export const sparseGatherConfig: tf.KernelConfig = {
  kernelName: SPARSE_GATHER,
  backendName: 'native',
  kernelFunc: (k) => {
    const { inputs, backend, attrs } = k as unknown as NativeKernelArgs;
    const { features } = inputs;
    float32(features, SPARSE_GATHER);
    const a = attrs as unknown as SparseAttrs;
    const out = backend.alloc(util.sizeFromShape(a.outShape));
    backend.addon.sparseGather(backend.f32(features), features.shape[features.shape.length - 1], a.outRow, a.srcRow, a.weight, a.starts, out);
    return backend.output(a.outShape, out);
  },
};

export const sparseScatterConfig: tf.KernelConfig = {
  kernelName: SPARSE_SCATTER,
  backendName: 'native',
  kernelFunc: (k) => {
    const { inputs, backend, attrs } = k as unknown as NativeKernelArgs;
    const { dy } = inputs;
    float32(dy, SPARSE_SCATTER);
    const a = attrs as unknown as SparseAttrs;
    const dx = backend.alloc(util.sizeFromShape(a.shape));
    backend.addon.sparseScatter(backend.f32(dy), dy.shape[dy.shape.length - 1], a.outRow, a.srcRow, a.weight, dx);
    return backend.output(a.shape, dx);
  },
};
