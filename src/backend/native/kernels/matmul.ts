/**
 * BatchMatMul and _FusedMatMul (bias + activation) on oneDNN's matmul. Transposes are read
 * through strides; a batch of 1 on either side broadcasts. Other batch broadcasts (e.g. [2, 1]
 * against [1, 3]) and PReLU run on the cpu kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { broadcast_util, util } from '@tensorflow/tfjs-core';
import { activationCode, allFloat32, nativeOr, type NativeKernelArgs } from './util.ts';

function matmul(args: NativeKernelArgs, bias: tf.TensorInfo | undefined, act: number, alpha: number): tf.TensorInfo | undefined {
  const { a, b } = args.inputs;
  const { backend } = args;
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (!allFloat32(a, b, bias) || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb || m === 0 || n === 0 || k === 0) return undefined; // the cpu kernel gives tfjs's error / empty result
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  const outShape = [...broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
  let biasValues: Float32Array | null = null;
  if (bias) {
    const size = util.sizeFromShape(bias.shape);
    if (size === n && bias.shape[bias.shape.length - 1] === n) biasValues = backend.f32(bias);
    else if (size === 1) biasValues = new Float32Array(n).fill(backend.f32(bias)[0]);
    else return undefined;
  }
  const out = backend.alloc(util.sizeFromShape(outShape));
  const shape = Int32Array.from([batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0]);
  backend.addon.matmul(backend.f32(a), backend.f32(b), biasValues, out, shape, act, alpha);
  return backend.output(outShape, out);
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    return nativeOr(tf.BatchMatMul, args, () => matmul(args, undefined, 0, 0));
  },
};

export const fusedMatMulConfig: tf.KernelConfig = {
  kernelName: tf._FusedMatMul,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { activation, leakyreluAlpha } = args.attrs as { activation?: string; leakyreluAlpha?: number };
    return nativeOr(tf._FusedMatMul, args, () => {
      const act = activationCode(activation);
      if (act === undefined || preluActivationWeights) return undefined;
      return matmul(args, bias, act, leakyreluAlpha ?? 0);
    });
  },
};
