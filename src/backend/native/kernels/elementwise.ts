/**
 * Elementwise kernels on the native backend: float32 binary ops with numpy broadcasting and unary
 * ops, as multi-threaded C++ loops (src/backend/native/addon/eltwise.cc). Other dtypes (int32,
 * bool, complex) run on the cpu kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import { allFloat32, nativeOr, type NativeKernelArgs } from './util.ts';

/** The addon's binary op codes. */
const BINARY: Record<string, number> = {
  [tf.Add]: 0, [tf.Sub]: 1, [tf.Multiply]: 2, [tf.RealDiv]: 3, [tf.Maximum]: 4, [tf.Minimum]: 5, [tf.SquaredDifference]: 6,
};

/** The addon's unary op codes. */
const UNARY: Record<string, number> = {
  [tf.Relu]: 0, [tf.Step]: 1, [tf.Neg]: 2, [tf.Exp]: 3, [tf.Log]: 4, [tf.Sqrt]: 5, [tf.Rsqrt]: 6, [tf.Square]: 7, [tf.Abs]: 8, [tf.Sigmoid]: 9, [tf.Relu6]: 10,
};

function binaryConfig(kernelName: string): tf.KernelConfig {
  const op = BINARY[kernelName];
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: (k) => {
      const args = k as unknown as NativeKernelArgs;
      const { a, b } = args.inputs;
      const { backend } = args;
      return nativeOr(kernelName, args, () => {
        if (!allFloat32(a, b)) return undefined;
        const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
        const out = backend.alloc(util.sizeFromShape(outShape));
        backend.addon.binary(op, backend.f32(a), Int32Array.from(a.shape), backend.f32(b), Int32Array.from(b.shape), out, Int32Array.from(outShape));
        return backend.output(outShape, out);
      });
    },
  };
}

function unaryConfig(kernelName: string): tf.KernelConfig {
  const op = UNARY[kernelName];
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: (k) => {
      const args = k as unknown as NativeKernelArgs;
      const { x } = args.inputs;
      const { backend } = args;
      return nativeOr(kernelName, args, () => {
        if (!allFloat32(x)) return undefined;
        const out = backend.alloc(util.sizeFromShape(x.shape));
        backend.addon.unary(op, backend.f32(x), out, Number((args.attrs as { alpha?: number } | undefined)?.alpha ?? 0));
        return backend.output(x.shape.slice(), out);
      });
    },
  };
}

export const ELEMENTWISE_KERNELS: tf.KernelConfig[] = [
  ...Object.keys(BINARY).map(binaryConfig),
  ...Object.keys(UNARY).map(unaryConfig),
];
