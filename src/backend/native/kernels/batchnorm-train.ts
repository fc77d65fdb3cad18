/**
 * Training batch norm as two native kernels (src/backend/native/addon/bn.cc): the forward with
 * the batch statistics, and the closed-form backward. src/nn/batchnorm-train.ts uses them on the
 * native backend in place of its composite (moments + a dozen elementwise ops and reductions:
 * 35% of a ResNet-50 training step here).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from '../../custom-kernels.ts';
import type { NativeKernelArgs } from './util.ts';

function channelsOf(x: tf.TensorInfo, ...perChannel: tf.TensorInfo[]): number {
  const c = x.shape[x.shape.length - 1];
  if (x.dtype !== 'float32' || x.shape.length < 2 || !(c > 0)) throw new Error(`${BATCH_NORM_TRAIN}: x must be float32 [..., C], got ${x.dtype} [${x.shape}]`);
  for (const p of perChannel) {
    if (p.dtype !== 'float32' || util.sizeFromShape(p.shape) !== c) throw new Error(`${BATCH_NORM_TRAIN}: per-channel inputs must be float32 [${c}], got [${p.shape}]`);
  }
  return c;
}

export const batchNormTrainConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN,
  backendName: 'native',
  kernelFunc: (k) => {
    const { inputs, backend, attrs } = k as unknown as NativeKernelArgs;
    const { x, gamma, beta } = inputs;
    const c = channelsOf(x, gamma, beta);
    const y = backend.alloc(util.sizeFromShape(x.shape));
    const mean = new Float32Array(c);
    const variance = new Float32Array(c);
    backend.addon.bnTrainForward(backend.f32(x), backend.f32(gamma), backend.f32(beta), y, mean, variance, c, Number(attrs.eps));
    return [backend.output(x.shape.slice(), y), backend.output([c], mean), backend.output([c], variance)];
  },
};

export const batchNormTrainGradConfig: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAIN_GRAD,
  backendName: 'native',
  kernelFunc: (k) => {
    const { inputs, backend, attrs } = k as unknown as NativeKernelArgs;
    const { dy, x, gamma, mean, variance } = inputs;
    const c = channelsOf(x, gamma, mean, variance);
    if (!util.arraysEqual(dy.shape, x.shape)) throw new Error(`${BATCH_NORM_TRAIN_GRAD}: dy [${dy.shape}] must be shaped as x [${x.shape}]`);
    const dx = backend.alloc(util.sizeFromShape(x.shape));
    const dgamma = new Float32Array(c);
    const dbeta = new Float32Array(c);
    backend.addon.bnTrainBackward(backend.f32(dy), backend.f32(x), backend.f32(gamma), backend.f32(mean), backend.f32(variance), dx, dgamma, dbeta, c, Number(attrs.eps));
    return [backend.output(x.shape.slice(), dx), backend.output([c], dgamma), backend.output([c], dbeta)];
  },
};
