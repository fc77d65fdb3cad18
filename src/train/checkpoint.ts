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
 * Writes are atomic: the file is written to a temporary name in the same folder, fsynced and
 * renamed over the target (then the folder is fsynced), so a crash at any point leaves either
 * the previous checkpoint or the new one, never a broken file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { inputError, quote } from '../errors.ts';
import { checkJsonDepth } from '../io/json.ts';
import { readSafetensorsHeader, writeSafetensors, type SafetensorsArray } from '../weights/safetensors.ts';
import type { ScheduleState } from './schedule.ts';

export const CHECKPOINT_FORMAT = 'resdet-checkpoint';
export const CHECKPOINT_VERSION = '1';
const MODEL_PREFIX = 'model.';
const MOMENTUM_PREFIX = 'optimizer.momentum.';

/** Everything needed to resume a run exactly. */
export interface Checkpoint {
  /** updates done so far */
  step: number;
  /** the run's configuration (model name, recipe, seed, ...), any JSON */
  config: unknown;
  /** states of the run's random generators (`Rng.state`), by name */
  rng: Record<string, number>;
  /** the learning-rate schedule's history (`LrSchedule.state()`), if it has one */
  schedule: ScheduleState | null;
  /** anything else the task wants back (best metric, epoch, ...) */
  extra: Record<string, unknown>;
  /** the model's state dict: parameters and buffers */
  model: Map<string, tf.Tensor>;
  /** optimiser state: momentum buffers by parameter name */
  optimizer: Map<string, tf.Tensor>;
}

/** tfjs dtypes a checkpoint stores, and their safetensors names. */
const DTYPES: Record<string, string> = { float32: 'F32', int32: 'I32' };

if (os.endianness() !== 'LE') throw new Error('resdet checkpoints assume a little-endian machine');

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
 * Reads a checkpoint written by `saveCheckpoint`. The safetensors reader validates the header,
 * every tensor's dtype (F32/I32), shape and byte range, their back-to-back layout and the file
 * size; this function checks the metadata and the tensor names. The returned tensors belong to
 * the caller.
 * @throws UserError naming the file and the bad field
 */
export function loadCheckpoint(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw inputError(file, '', `cannot read checkpoint (${(err as Error).message})`);
  }
  const { entries, metadata: meta, dataStart } = readSafetensorsHeader(buf, file, {
    expected: 'a resdet checkpoint (safetensors)',
    dtypes: Object.values(DTYPES),
    contiguous: true,
  });
  if (meta.format !== CHECKPOINT_FORMAT) throw inputError(file, '__metadata__.format', `expected ${quote(CHECKPOINT_FORMAT)}, got ${quote(meta.format)}`);
  if (meta.version !== CHECKPOINT_VERSION) throw inputError(file, '__metadata__.version', `expected ${quote(CHECKPOINT_VERSION)}, got ${quote(meta.version)}`);
  let state: Record<string, unknown>;
  // the state is untrusted JSON like the header around it: nesting limited (io/json.ts)
  checkJsonDepth(String(meta.state), file, '__metadata__.state');
  try {
    state = JSON.parse(String(meta.state)) as Record<string, unknown>;
  } catch {
    throw inputError(file, '__metadata__.state', `expected a JSON string, got ${quote(meta.state)}`);
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw inputError(file, '__metadata__.state', `expected a JSON object, got ${quote(state)}`);
  if (!Number.isInteger(state.step) || (state.step as number) < 0) throw inputError(file, '__metadata__.state.step', `expected a non-negative integer, got ${quote(state.step)}`);

  const bad = entries.find((e) => !e.name.startsWith(MODEL_PREFIX) && !e.name.startsWith(MOMENTUM_PREFIX));
  if (bad) throw inputError(file, `tensors[${quote(bad.name)}]`, `expected a name starting with ${quote(MODEL_PREFIX)} or ${quote(MOMENTUM_PREFIX)}`);
  const model = new Map<string, tf.Tensor>();
  const optimizer = new Map<string, tf.Tensor>();
  for (const e of entries) {
    const bytes = buf.buffer.slice(buf.byteOffset + dataStart + e.begin, buf.byteOffset + dataStart + e.end);
    const t = e.dtype === 'float32' ? tf.tensor(new Float32Array(bytes), e.shape, 'float32') : tf.tensor(new Int32Array(bytes), e.shape, 'int32');
    if (e.name.startsWith(MODEL_PREFIX)) model.set(e.name.slice(MODEL_PREFIX.length), t);
    else optimizer.set(e.name.slice(MOMENTUM_PREFIX.length), t);
  }
  return {
    step: state.step as number,
    config: state.config ?? null,
    rng: (state.rng ?? {}) as Record<string, number>,
    schedule: (state.schedule ?? null) as ScheduleState | null,
    extra: (state.extra ?? {}) as Record<string, unknown>,
    model,
    optimizer,
  };
}

/** Frees the tensors of a loaded checkpoint. */
export function disposeCheckpoint(ckpt: Checkpoint): void {
  for (const t of [...ckpt.model.values(), ...ckpt.optimizer.values()]) t.dispose();
}
