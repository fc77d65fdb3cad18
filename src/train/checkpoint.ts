/**
 * resdet's checkpoint format: one safetensors file (so any safetensors reader can open it)
 * whose metadata carries the training state.
 *
 *   bytes 0..7      header length H, unsigned 64-bit little-endian
 *   bytes 8..8+H    JSON header, padded with spaces to a multiple of 8 bytes:
 *                   { "__metadata__": { "format": "resdet-checkpoint", "version": "1",
 *                                        "state": "<JSON: step, config, rng, schedule, extra>" },
 *                     "<name>": { "dtype": "F32" | "I32", "shape": [...], "data_offsets": [b, e] }, ... }
 *   bytes 8+H..     raw little-endian tensor data; offsets are relative to the data start,
 *                   tensors are stored back to back in header order
 *
 * The bytes are those of src/weights/safetensors.ts's `encodeSafetensors` (the one writer of
 * the format in resdet), and loading uses its `readSafetensorsHeader` with `contiguous`, so
 * weight import and checkpoints share one reader.
 *
 * Tensor names: `model.<state-dict name>` for parameters and buffers (PyTorch naming, tfjs
 * layouts: conv HWIO, linear [in, out]) and `optimizer.momentum.<parameter name>` for SGD's
 * momentum buffers.
 *
 * The format on bytes (its reader, shared with the browser build) is ./checkpoint-bytes.ts.
 *
 * Writes are atomic: the file is written to a temporary name in the same folder, fsynced and
 * renamed over the target (then the folder is fsynced), so a crash at any point leaves either
 * the previous checkpoint or the new one, never a broken file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { inputError } from '../errors.ts';
import { writeSafetensors, type SafetensorsArray } from '../weights/safetensors.ts';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, decodeCheckpoint, DTYPES, MODEL_PREFIX, MOMENTUM_PREFIX, type Checkpoint } from './checkpoint-bytes.ts';

export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, decodeCheckpoint, disposeCheckpoint, type Checkpoint } from './checkpoint-bytes.ts';

/**
 * Writes `ckpt` to `file` atomically (src/io/atomic.ts). On any error (a tensor that cannot be
 * read, a full disk) the temporary file is removed and the previous `file` is left intact.
 */
export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  // Tensor data is read (dataSync) before anything touches the disk; writeSafetensors then
  // writes a temporary file, fsyncs it and renames it over the target.
  const tensors = new Map<string, SafetensorsArray>();
  const add = (prefix: string, state: Map<string, tf.Tensor>): void => {
    for (const [n, t] of state) {
      if (!DTYPES[t.dtype]) throw new Error(`checkpoint: ${prefix + n}: dtype ${t.dtype} is not supported (float32, int32)`);
      tensors.set(prefix + n, { shape: t.shape, data: t.dataSync() as Float32Array | Int32Array });
    }
  };
  add(MODEL_PREFIX, ckpt.model);
  add(MOMENTUM_PREFIX, ckpt.optimizer);
  const state = JSON.stringify({ step: ckpt.step, config: ckpt.config, rng: ckpt.rng, schedule: ckpt.schedule, extra: ckpt.extra });
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeSafetensors(file, tensors, { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, state });
  // Make the rename itself durable (POSIX: the directory entry lives in the folder).
  try {
    const dfd = fs.openSync(path.dirname(path.resolve(file)), 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // some file systems refuse fsync on a directory; the rename is still atomic
  }
}

/**
 * Reads a checkpoint written by `saveCheckpoint` (see `decodeCheckpoint` for what is checked).
 * The returned tensors belong to the caller.
 * @throws UserError naming the file and the bad field
 */
export function loadCheckpoint(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw inputError(file, '', `cannot read checkpoint (${(err as Error).message})`);
  }
  return decodeCheckpoint(buf, file);
}
