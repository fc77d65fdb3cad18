/**
 * safetensors files: the format's reader and encoder on bytes (./safetensors-bytes.ts, which the
 * browser build uses too) and the atomic file writer.
 */
import { writeFileAtomic } from '../io/atomic.ts';
import { encodeSafetensors, type SafetensorsArray } from './safetensors-bytes.ts';

export * from './safetensors-bytes.ts';

/**
 * Writes arrays as a safetensors file (header padded to 8 bytes), atomically.
 * @param tensors name -> dense row-major array and its shape, written in this order
 * @param metadata optional string map stored as `__metadata__`
 */
export function writeSafetensors(file: string, tensors: Map<string, SafetensorsArray>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}
