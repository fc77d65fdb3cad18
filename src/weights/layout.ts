/**
 * PyTorch <-> tfjs layouts of a parameter, from the `torchLayout` each slot records
 * (src/nn/module.ts): conv weights OIHW <-> HWIO, linear weights [out, in] <-> [in, out],
 * everything else unchanged.
 */
import type { TorchLayout } from '../nn/module.ts';
import { transposeArray, type WeightArray } from './arrays.ts';

/** PyTorch's shape for a tfjs-layout shape. */
export function torchShape(shape: readonly number[], layout: TorchLayout): number[] {
  if (layout === 'conv') return [shape[3], shape[2], shape[0], shape[1]]; // HWIO -> OIHW
  if (layout === 'linear') return [shape[1], shape[0]]; // [in, out] -> [out, in]
  return [...shape];
}

/** Converts a dense PyTorch-layout array to tfjs layout. */
export function toTfjsLayout(a: Pick<WeightArray, 'data' | 'shape'>, layout: TorchLayout): { data: Float32Array; shape: number[] } {
  if (layout === 'conv') return transposeArray(a.data, a.shape, [2, 3, 1, 0]); // OIHW -> HWIO
  if (layout === 'linear') return transposeArray(a.data, a.shape, [1, 0]);
  return { data: a.data, shape: [...a.shape] };
}

/** Converts a dense tfjs-layout array to PyTorch layout. */
export function toTorchLayout(a: Pick<WeightArray, 'data' | 'shape'>, layout: TorchLayout): { data: Float32Array; shape: number[] } {
  if (layout === 'conv') return transposeArray(a.data, a.shape, [3, 2, 0, 1]); // HWIO -> OIHW
  if (layout === 'linear') return transposeArray(a.data, a.shape, [1, 0]);
  return { data: a.data, shape: [...a.shape] };
}
