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
import { writeFileAtomic } from '../io/atomic.ts';
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

interface TensorEntry {
  dtype: 'F32' | 'I32';
  shape: number[];
  data_offsets: [number, number];
}

const DTYPES: Record<string, TensorEntry['dtype']> = { float32: 'F32', int32: 'I32' };

if (os.endianness() !== 'LE') throw new Error('resdet checkpoints assume a little-endian machine');

/**
 * Writes `ckpt` to `file` atomically (src/io/atomic.ts). On any error (a tensor that cannot be
 * read, a full disk) the temporary file is removed and the previous `file` is left intact.
 */
export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  const tensors: Array<[string, tf.Tensor]> = [
    ...[...ckpt.model].map(([n, t]) => [MODEL_PREFIX + n, t] as [string, tf.Tensor]),
    ...[...ckpt.optimizer].map(([n, t]) => [MOMENTUM_PREFIX + n, t] as [string, tf.Tensor]),
  ];
  const header: Record<string, unknown> = {
    __metadata__: {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      state: JSON.stringify({ step: ckpt.step, config: ckpt.config, rng: ckpt.rng, schedule: ckpt.schedule, extra: ckpt.extra }),
    },
  };
  let offset = 0;
  for (const [name, t] of tensors) {
    const dtype = DTYPES[t.dtype];
    if (!dtype) throw new Error(`checkpoint: ${name}: dtype ${t.dtype} is not supported (float32, int32)`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + t.size * 4] };
    offset += t.size * 4;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));

  // Tensor data is read (dataSync) before anything touches the disk; writeFileAtomic then
  // writes a temporary file, fsyncs it and renames it over the target.
  const chunks: Buffer[] = [head, Buffer.from(json)];
  for (const [, t] of tensors) {
    const data = t.dataSync() as Float32Array | Int32Array;
    chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileAtomic(file, Buffer.concat(chunks));
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
 * Reads a checkpoint written by `saveCheckpoint`, validating the header, every tensor's dtype,
 * shape and byte range, and the file size. The returned tensors belong to the caller.
 * @throws UserError naming the file and the bad field
 */
export function loadCheckpoint(file: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw inputError(file, '', `cannot read checkpoint (${(err as Error).message})`);
  }
  if (buf.length < 8) throw inputError(file, '', `expected a resdet checkpoint (safetensors), got ${buf.length} bytes`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) throw inputError(file, 'header length', `expected at most ${buf.length - 8} bytes, got ${headerLen} (truncated or not a checkpoint)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw inputError(file, 'header', `expected JSON, got a parse error (${(err as Error).message})`);
  }
  const meta = header.__metadata__ as Record<string, unknown> | undefined;
  if (!meta || meta.format !== CHECKPOINT_FORMAT) throw inputError(file, '__metadata__.format', `expected ${quote(CHECKPOINT_FORMAT)}, got ${quote(meta?.format)}`);
  if (meta.version !== CHECKPOINT_VERSION) throw inputError(file, '__metadata__.version', `expected ${quote(CHECKPOINT_VERSION)}, got ${quote(meta.version)}`);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(String(meta.state)) as Record<string, unknown>;
  } catch {
    throw inputError(file, '__metadata__.state', `expected a JSON string, got ${quote(meta.state)}`);
  }
  if (!Number.isInteger(state.step) || (state.step as number) < 0) throw inputError(file, '__metadata__.state.step', `expected a non-negative integer, got ${quote(state.step)}`);

  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const model = new Map<string, tf.Tensor>();
  const optimizer = new Map<string, tf.Tensor>();
  let expectedOffset = 0;
  try {
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const where = `tensors[${quote(name)}]`;
      const e = raw as Partial<TensorEntry>;
      if (e.dtype !== 'F32' && e.dtype !== 'I32') throw inputError(file, `${where}.dtype`, `expected "F32" or "I32", got ${quote(e.dtype)}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw inputError(file, `${where}.shape`, `expected non-negative integers, got ${quote(e.shape)}`);
      const size = e.shape.reduce((a, b) => a * b, 1);
      const [b, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
      if (b !== expectedOffset || end !== b + size * 4) {
        throw inputError(file, `${where}.data_offsets`, `expected [${expectedOffset}, ${expectedOffset + size * 4}] for shape [${e.shape}], got ${quote(e.data_offsets)}`);
      }
      if (end > dataLen) throw inputError(file, `${where}.data_offsets`, `expected to end within the ${dataLen} data bytes, got ${end} (truncated file)`);
      expectedOffset = end;
      const bytes = buf.buffer.slice(buf.byteOffset + dataStart + b, buf.byteOffset + dataStart + end);
      const t = e.dtype === 'F32' ? tf.tensor(new Float32Array(bytes), e.shape, 'float32') : tf.tensor(new Int32Array(bytes), e.shape, 'int32');
      if (name.startsWith(MODEL_PREFIX)) model.set(name.slice(MODEL_PREFIX.length), t);
      else if (name.startsWith(MOMENTUM_PREFIX)) optimizer.set(name.slice(MOMENTUM_PREFIX.length), t);
      else {
        t.dispose();
        throw inputError(file, where, `expected a name starting with ${quote(MODEL_PREFIX)} or ${quote(MOMENTUM_PREFIX)}`);
      }
    }
    if (expectedOffset !== dataLen) throw inputError(file, 'data', `expected ${expectedOffset} bytes after the header, got ${dataLen}`);
  } catch (err) {
    for (const t of [...model.values(), ...optimizer.values()]) t.dispose();
    throw err;
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
