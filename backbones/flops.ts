/**
 * Analytic multiply-add (MAC) counts from layer shapes, without running the network.
 *
 * Convention (the one that reproduces the paper's Table 1, checked in test/backbones/flops.test.ts):
 * one MAC per weight use of a convolution or fully connected layer, i.e. Hout*Wout*k*k*Cin*Cout
 * for a conv and in*out for an fc; biases, batch norm, ReLU, pooling and the residual additions
 * are not counted. Table 1's "FLOPs" (1.8, 3.6, 3.8, 7.6, 11.3 x 10^9) are such MACs of the
 * original MSRA models, whose bottleneck blocks put the stride-2 on the first 1x1 conv
 * (strideInFirst1x1); torchvision's placement on the 3x3 gives more (ResNet-50: 4.09 x 10^9,
 * the number torchvision documents).
 */
import { Conv2d, Linear, MaxPool2d, GlobalAvgPool, FlattenNCHW, AdaptiveAvgPool2d } from '../src/nn/layers.ts';
import { Sequential, NamedSequential, type Layer } from '../src/nn/module.ts';

/** The shape of one image's activation; a flat vector is { h: 1, w: 1, c: features }. */
export interface MapShape {
  h: number;
  w: number;
  c: number;
}

/** The result of counting a layer: its MACs and its output shape. */
export interface MacCount {
  macs: number;
  shape: MapShape;
}

/** A layer whose data flow is not a plain chain (residual blocks, whole networks) counts itself. */
export interface MacCounted {
  countMacs(input: MapShape): MacCount;
}

function isMacCounted(layer: object): layer is MacCounted {
  return typeof (layer as Partial<MacCounted>).countMacs === 'function';
}

/** Output size of a conv or pool along one axis (PyTorch's floor rule with symmetric padding). */
export function outSize(size: number, kernel: number, stride: number, padding: number, dilation = 1): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Runs `layers` in order, summing MACs. */
export function countChain(layers: readonly Layer[], input: MapShape): MacCount {
  let macs = 0;
  let shape = input;
  for (const layer of layers) {
    const r = countMacs(layer, shape);
    macs += r.macs;
    shape = r.shape;
  }
  return { macs, shape };
}

/**
 * MACs of one image through `layer`, given its input shape.
 * Layers without weights and without a shape change (BN, ReLU, dropout) count 0 and pass the shape.
 */
export function countMacs(layer: Layer, input: MapShape): MacCount {
  if (isMacCounted(layer)) return layer.countMacs(input);
  if (layer instanceof Sequential || layer instanceof NamedSequential) return countChain(layer.layers, input);
  if (layer instanceof Conv2d) {
    if (input.c !== layer.inChannels) throw new Error(`Conv2d expects ${layer.inChannels} channels, got ${input.c}`);
    const h = outSize(input.h, layer.kernelSize, layer.stride, layer.padding, layer.dilation);
    const w = outSize(input.w, layer.kernelSize, layer.stride, layer.padding, layer.dilation);
    return { macs: h * w * layer.kernelSize * layer.kernelSize * layer.inChannels * layer.outChannels, shape: { h, w, c: layer.outChannels } };
  }
  if (layer instanceof Linear) {
    const n = input.h * input.w * input.c;
    if (n !== layer.inFeatures) throw new Error(`Linear expects ${layer.inFeatures} features, got ${n}`);
    return { macs: layer.inFeatures * layer.outFeatures, shape: { h: 1, w: 1, c: layer.outFeatures } };
  }
  if (layer instanceof MaxPool2d) {
    const h = outSize(input.h, layer.kernelSize, layer.stride, layer.padding);
    const w = outSize(input.w, layer.kernelSize, layer.stride, layer.padding);
    return { macs: 0, shape: { h, w, c: input.c } };
  }
  if (layer instanceof GlobalAvgPool) return { macs: 0, shape: { h: 1, w: 1, c: input.c } };
  if (layer instanceof FlattenNCHW) return { macs: 0, shape: { h: 1, w: 1, c: input.h * input.w * input.c } };
  if (layer instanceof AdaptiveAvgPool2d) return { macs: 0, shape: { h: layer.outputSize, w: layer.outputSize, c: input.c } };
  return { macs: 0, shape: input };
}
