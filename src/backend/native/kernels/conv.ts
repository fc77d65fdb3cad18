/**
 * Convolution kernels on oneDNN: Conv2D, FusedConv2D (bias + activation as post-ops), and the two
 * gradients Conv2DBackpropInput / Conv2DBackpropFilter. NHWC activations, HWIO filters, as tfjs.
 * NCHW data, PReLU activations and bias shapes other than [outChannels] or a scalar run on the
 * cpu kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util, util } from '@tensorflow/tfjs-core';
import { FUSED_CONV_ADD } from '../../custom-kernels.ts';
import { activationCode, allFloat32, nativeOr, type NativeKernelArgs } from './util.ts';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/**
 * The addon's conv geometry: [N, H, W, C, KH, KW, O, OH, OW, sh, sw, dh, dw, pt, pl, pb, pr].
 */
export function convGeometry(info: backend_util.Conv2DInfo): Int32Array {
  const p = info.padInfo;
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.filterHeight, info.filterWidth, info.outChannels, info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth,
    p.top, p.left, p.bottom, p.right,
  ]);
}

function convInfo(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): backend_util.Conv2DInfo | undefined {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as {
    strides: number | [number, number]; pad: Pad; dataFormat?: 'NHWC' | 'NCHW'; dilations?: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (dataFormat === 'NCHW') return undefined;
  return backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, false, 'channelsLast');
}

/**
 * Runs the forward convolution with optional bias [O] (a scalar is broadcast), activation code
 * and residual `add` (shaped as the output).
 */
export function convForward(args: NativeKernelArgs, x: tf.TensorInfo, filter: tf.TensorInfo, bias: tf.TensorInfo | undefined, add: tf.TensorInfo | undefined, act: number, alpha: number): tf.TensorInfo | undefined {
  const { backend } = args;
  if (!allFloat32(x, filter, bias, add)) return undefined;
  const info = convInfo(x.shape, filter.shape, args.attrs);
  if (!info) return undefined;
  if (add && !util.arraysEqual(add.shape, info.outShape)) return undefined;
  let biasValues: Float32Array | null = null;
  if (bias) {
    const size = util.sizeFromShape(bias.shape);
    if (size === info.outChannels) biasValues = backend.f32(bias);
    else if (size === 1) biasValues = new Float32Array(info.outChannels).fill(backend.f32(bias)[0]);
    else return undefined;
  }
  const out = backend.alloc(util.sizeFromShape(info.outShape));
  backend.addon.conv2d(backend.f32(x), backend.f32(filter), biasValues, add ? backend.f32(add) : null, out, convGeometry(info), act, alpha, backend.weightId(filter));
  return backend.output(info.outShape, out);
}

export const conv2DConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { x, filter } = args.inputs;
    return nativeOr(tf.Conv2D, args, () => convForward(args, x, filter, undefined, undefined, 0, 0));
  },
};

export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: tf.FusedConv2D,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { x, filter } = args.inputs;
    const { bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const { activation, leakyreluAlpha } = args.attrs as { activation?: string; leakyreluAlpha?: number };
    return nativeOr(tf.FusedConv2D, args, () => {
      const act = activationCode(activation);
      if (act === undefined || preluActivationWeights) return undefined;
      return convForward(args, x, filter, bias, undefined, act, leakyreluAlpha ?? 0);
    });
  },
};

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { dy, filter } = args.inputs;
    const { backend } = args;
    return nativeOr(tf.Conv2DBackpropInput, args, () => {
      if (!allFloat32(dy, filter)) return undefined;
      const inputShape = args.attrs.inputShape as number[];
      const info = convInfo(inputShape, filter.shape, { ...args.attrs, dilations: 1 });
      if (!info) return undefined;
      const dx = backend.alloc(util.sizeFromShape(info.inShape));
      backend.addon.conv2dBackpropInput(backend.f32(dy), backend.f32(filter), dx, convGeometry(info), backend.weightId(filter));
      return backend.output(info.inShape, dx);
    });
  },
};

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { x, dy } = args.inputs;
    const { backend } = args;
    return nativeOr(tf.Conv2DBackpropFilter, args, () => {
      if (!allFloat32(x, dy)) return undefined;
      const filterShape = args.attrs.filterShape as number[];
      const info = convInfo(x.shape, filterShape, { ...args.attrs, dilations: 1 });
      if (!info) return undefined;
      const dw = backend.alloc(util.sizeFromShape(info.filterShape));
      backend.addon.conv2dBackpropFilter(backend.f32(x), backend.f32(dy), dw, convGeometry(info));
      return backend.output(info.filterShape, dw);
    });
  },
};

/** resdet's conv + bias + residual add + activation (FUSED_CONV_ADD): oneDNN's sum post-op. */
export const fusedConv2DAddConfig: tf.KernelConfig = {
  kernelName: FUSED_CONV_ADD,
  backendName: 'native',
  kernelFunc: (a) => {
    const args = a as unknown as NativeKernelArgs;
    const { x, filter, add } = args.inputs;
    const { bias } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const act = activationCode((args.attrs as { activation?: string }).activation);
    const out = act === undefined ? undefined : convForward(args, x, filter, bias, add, act, 0);
    if (!out) throw new Error(`${FUSED_CONV_ADD}: unsupported case (x [${x.shape}] ${x.dtype}, add [${add.shape}])`);
    return out;
  },
};
