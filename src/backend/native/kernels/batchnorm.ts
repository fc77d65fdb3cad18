/**
 * FusedBatchNorm (tf.batchNorm: y = (x - mean) / sqrt(var + eps) * scale + offset) on the native
 * backend, with each parameter per channel (the last axis) or a single value; other parameter
 * shapes run on the cpu kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { allFloat32, nativeOr, type NativeKernelArgs } from './util.ts';

export const batchNormConfig: tf.KernelConfig = {
  kernelName: tf.FusedBatchNorm,
  backendName: 'native',
  kernelFunc: (k) => {
    const args = k as unknown as NativeKernelArgs;
    const { x, mean, variance } = args.inputs;
    const { offset, scale } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { backend } = args;
    return nativeOr(tf.FusedBatchNorm, args, () => {
      if (!allFloat32(x, mean, variance, offset, scale) || x.shape.length === 0) return undefined;
      const c = x.shape[x.shape.length - 1];
      const perChannel = (t: tf.TensorInfo | undefined) => {
        if (!t) return true;
        const size = util.sizeFromShape(t.shape);
        return size === 1 || (size === c && t.shape[t.shape.length - 1] === c);
      };
      if (c === 0 || ![mean, variance, offset, scale].every(perChannel)) return undefined;
      const out = backend.alloc(util.sizeFromShape(x.shape));
      const eps = Number((args.attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001);
      backend.addon.batchNorm(backend.f32(x), backend.f32(mean), backend.f32(variance), offset ? backend.f32(offset) : null, scale ? backend.f32(scale) : null, out, c, eps);
      return backend.output(x.shape.slice(), out);
    });
  },
};
