/**
 * resdet's checkpoint format on bytes, with no file access (the browser build reads checkpoints
 * with it); src/train/checkpoint.ts documents the format and adds the atomic file writer and
 * reader.
 */
import * as tf from '@tensorflow/tfjs-core';
import { inputError, quote } from '../errors.ts';
import { checkJsonDepth } from '../io/json-depth.ts';
import { readSafetensorsHeader } from '../weights/safetensors-bytes.ts';
import type { ScheduleState } from './schedule.ts';

export const CHECKPOINT_FORMAT = 'resdet-checkpoint';
export const CHECKPOINT_VERSION = '1';
export const MODEL_PREFIX = 'model.';
export const MOMENTUM_PREFIX = 'optimizer.momentum.';

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
export const DTYPES: Record<string, string> = { float32: 'F32', int32: 'I32' };

// tensor bytes are read as typed arrays in place: the machine must be little-endian as the format
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('resdet checkpoints assume a little-endian machine');

/**
 * Reads the bytes of a checkpoint written by `saveCheckpoint` (src/train/checkpoint.ts). The
 * safetensors reader validates the header, every tensor's dtype (F32/I32), shape and byte range,
 * their back-to-back layout and the size; this function checks the metadata and the tensor
 * names. The returned tensors belong to the caller.
 * @param file the name used in error messages (a path, a URL)
 * @throws UserError naming the file and the bad field
 */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const { entries, metadata: meta, dataStart } = readSafetensorsHeader(bytes, file, {
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
    const data = bytes.buffer.slice(bytes.byteOffset + dataStart + e.begin, bytes.byteOffset + dataStart + e.end);
    const t = e.dtype === 'float32' ? tf.tensor(new Float32Array(data), e.shape, 'float32') : tf.tensor(new Int32Array(data), e.shape, 'int32');
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
