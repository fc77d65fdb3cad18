/**
 * 2-D pooling on the native backend: MaxPool / AvgPool forward and AvgPoolGrad on oneDNN,
 * MaxPoolGrad as a C++ loop with tfjs's tie rule (first maximum of the window). NHWC, float32.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import { allFloat32, nativeOr, type NativeKernelArgs } from './util.ts';

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** [N, H, W, C, FH, FW, OH, OW, sh, sw, pt, pl, pb, pr] of the addon. */
function poolInfo(xShape: number[], attrs: tf.NamedAttrMap): { info: backend_util.Conv2DInfo; geometry: Int32Array } {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
  const info = backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const p = info.padInfo;
  const geometry = Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight, info.filterWidth,
    info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, p.top, p.left, p.bottom, p.right,
  ]);
  return { info, geometry };
}

function poolConfig(kernelName: string, isMax: boolean): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: (a) => {
      const args = a as unknown as NativeKernelArgs;
      const { x } = args.inputs;
      const { backend } = args;
      return nativeOr(kernelName, args, () => {
        if (!allFloat32(x) || x.shape.length !== 4) return undefined;
        const { info, geometry } = poolInfo(x.shape, args.attrs);
        const out = backend.alloc(util.sizeFromShape(info.outShape));
        backend.addon.pool(backend.f32(x), out, geometry, isMax ? 1 : 0);
        return backend.output(info.outShape, out);
      });
    },
  };
}

export const maxPoolConfig = poolConfig(tf.MaxPool, true);
export const avgPoolConfig = poolConfig(tf.AvgPool, false);

export const avgPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { dy, input } = args.inputs;
    const { backend } = args;
    return nativeOr(tf.AvgPoolGrad, args, () => {
      if (!allFloat32(dy, input) || input.shape.length !== 4) return undefined;
      const { info, geometry } = poolInfo(input.shape, args.attrs);
      const dx = backend.alloc(util.sizeFromShape(info.inShape));
      backend.addon.avgPoolGrad(backend.f32(dy), dx, geometry);
      return backend.output(input.shape, dx);
    });
  },
};

export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { dy, input } = args.inputs;
    const { backend } = args;
    return nativeOr(tf.MaxPoolGrad, args, () => {
      if (!allFloat32(dy, input) || input.shape.length !== 4) return undefined;
      const { geometry } = poolInfo(input.shape, args.attrs);
      const dx = backend.alloc(util.sizeFromShape(input.shape));
      backend.addon.maxPoolGrad(backend.f32(dy), backend.f32(input), dx, geometry);
      return backend.output(input.shape, dx);
    });
  },
};
