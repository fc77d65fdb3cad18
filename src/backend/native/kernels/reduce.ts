/**
 * Float32 reductions (Sum, Mean, Max, Min) over one contiguous block of axes, e.g. batch norm's
 * statistics over N, H, W of an NHWC map, without the transpose tfjs-backend-cpu makes first.
 * Other axis sets and dtypes run on the cpu kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import { allFloat32, nativeOr, type NativeKernelArgs } from './util.ts';

const OPS: Record<string, number> = { [tf.Sum]: 0, [tf.Mean]: 1, [tf.Max]: 2, [tf.Min]: 3 };

/**
 * [outer, r, inner] of reducing `axes` of `shape` when the axes are one contiguous block.
 * @returns undefined for a non-contiguous set, or an empty one
 */
export function reductionSplit(shape: number[], axes: number[]): [number, number, number] | undefined {
  if (axes.length === 0) return undefined;
  const sorted = [...axes].sort((p, q) => p - q);
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1] + 1) return undefined;
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  return [util.sizeFromShape(shape.slice(0, first)), util.sizeFromShape(shape.slice(first, last + 1)), util.sizeFromShape(shape.slice(last + 1))];
}

function reduceConfig(kernelName: string): tf.KernelConfig {
  const op = OPS[kernelName];
  return {
    kernelName,
    backendName: 'native',
    kernelFunc: (k) => {
      const args = k as unknown as NativeKernelArgs;
      const { x } = args.inputs;
      const { backend } = args;
      return nativeOr(kernelName, args, () => {
        const attrs = args.attrs as { axis?: number | number[]; reductionIndices?: number | number[]; keepDims?: boolean };
        if (!allFloat32(x) || util.sizeFromShape(x.shape) === 0) return undefined;
        const axes = util.parseAxisParam(attrs.axis ?? attrs.reductionIndices ?? [], x.shape);
        const split = reductionSplit(x.shape, axes);
        if (!split) return undefined;
        const [outShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
        const out = backend.alloc(util.sizeFromShape(outShape));
        backend.addon.reduce(op, backend.f32(x), out, split[0], split[1], split[2]);
        return backend.output(attrs.keepDims ? backend_util.expandShapeToKeepDim(outShape, axes) : outShape, out);
      });
    },
  };
}

export const REDUCE_KERNELS: tf.KernelConfig[] = Object.keys(OPS).map(reduceConfig);
