/**
 * Slice and PadV2 on the native backend: float32 region copies, one memcpy per contiguous run
 * (tfjs-backend-cpu walks tensors above rank 4 element by element: the reshape-and-slice of an
 * option-A shortcut and its PadV2 gradient were 74% of a ResNet-20 training step).
 */
import * as tf from '@tensorflow/tfjs-core';
import { slice_util, util } from '@tensorflow/tfjs-core';
import { allFloat32, nativeOr, type NativeKernelArgs } from './util.ts';

export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: 'native',
  kernelFunc: (k) => {
    const args = k as unknown as NativeKernelArgs;
    const { x } = args.inputs;
    const { backend } = args;
    return nativeOr(tf.Slice, args, () => {
      if (!allFloat32(x) || x.shape.length === 0) return undefined;
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      const [b, s] = slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      slice_util.assertParamsValid(x as tf.Tensor, b, s);
      const out = backend.alloc(util.sizeFromShape(s));
      backend.addon.slice(backend.f32(x), Int32Array.from(x.shape), Int32Array.from(b), out, Int32Array.from(s));
      return backend.output(s, out);
    });
  },
};

export const padConfig: tf.KernelConfig = {
  kernelName: tf.PadV2,
  backendName: 'native',
  kernelFunc: (k) => {
    const args = k as unknown as NativeKernelArgs;
    const { x } = args.inputs;
    const { backend } = args;
    return nativeOr(tf.PadV2, args, () => {
      if (!allFloat32(x) || x.shape.length === 0) return undefined;
      const { paddings, constantValue } = args.attrs as unknown as { paddings: Array<[number, number]>; constantValue: number };
      const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
      const out = backend.alloc(util.sizeFromShape(outShape));
      backend.addon.pad(backend.f32(x), Int32Array.from(x.shape), Int32Array.from(paddings.map((p) => p[0])), out, Int32Array.from(outShape), constantValue);
      return backend.output(outShape, out);
    });
  },
};
