/**
 * Exports a resdet model's state as safetensors in PyTorch's layout and names, so PyTorch users
 * read it with `safetensors.torch.load_file` and `model.load_state_dict` (and resdet reads it
 * back with `importWeights`).
 */
import type { Module } from '../nn/module.ts';
import { toTorchLayout } from './layout.ts';
import { writeSafetensors } from './safetensors.ts';

/**
 * Writes every parameter and buffer of `model` (float32, PyTorch layout) to `file`, atomically.
 * @param metadata extra `__metadata__` strings (e.g. the backbone name)
 */
export function exportWeights(model: Module, file: string, metadata: Record<string, string> = {}): void {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, slot] of model.namedSlots()) {
    const data = Float32Array.from(slot.variable.dataSync());
    tensors.set(name, toTorchLayout({ data, shape: slot.variable.shape }, slot.torchLayout));
  }
  writeSafetensors(file, tensors, { format: 'pt', producer: 'resdet', ...metadata });
}
