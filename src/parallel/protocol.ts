/**
 * The messages between the data-parallel main thread and its worker threads, and the flat
 * layouts in which weights and gradients cross between them.
 *
 * Weights and gradients do not travel in messages: at start the main thread allocates one
 * SharedArrayBuffer for the model state (every parameter and buffer, state-dict order) that all
 * workers read, and one per worker for its gradients (trainable parameters, state-dict order)
 * that only that worker writes. The messages order the accesses, so no Atomics are needed: the
 * main thread writes the state before it posts a step and reads a worker's gradients after that
 * worker's reply; a worker reads the state when the step arrives and writes its gradients before
 * replying. Batch shards travel in the messages, their ArrayBuffers transferred (not copied).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/index.ts';

/** Where one tensor lies in a flat shared buffer (offset and size in 4-byte elements). */
export interface SlotLayout {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  size: number;
}

/** How a worker builds its replica: a module exporting `createReplica(args)` (see `ReplicaFactory`). */
export interface ReplicaSpec {
  /** file URL (or absolute path) of the module */
  module: string;
  /** JSON-cloneable arguments, e.g. {model: 'resnet20', numClasses: 10} */
  args: unknown;
}

export type MainToWorker =
  | { type: 'init'; backend: string; spec: ReplicaSpec; state: SlotLayout[]; grads: SlotLayout[]; stateBuffer: SharedArrayBuffer; gradBuffer: SharedArrayBuffer }
  | { type: 'step'; id: number; step: number; shard: unknown; syncState: boolean; rngs: Record<string, number> }
  | { type: 'forward'; id: number; x: Float32Array; shape: number[]; syncState: boolean }
  | { type: 'state'; id: number };

export type WorkerToMain =
  | { type: 'ready' }
  | { type: 'grads'; id: number; loss: number; metrics: Record<string, number>; examples: number }
  | { type: 'output'; id: number; y: Float32Array; shape: number[] }
  | { type: 'state'; id: number; values: ArrayBuffer }
  | { type: 'error'; id: number | null; message: string; stack?: string };

/**
 * Lays out `entries` back to back.
 * @returns the layout and the total length in 4-byte elements
 */
export function layoutOf(entries: Array<[string, tf.Variable]>): { layout: SlotLayout[]; length: number } {
  let offset = 0;
  const layout = entries.map(([name, v]): SlotLayout => {
    if (v.dtype !== 'float32' && v.dtype !== 'int32') throw new Error(`data parallel: ${name}: dtype ${v.dtype} is not supported (float32, int32)`);
    const slot = { name, shape: v.shape, dtype: v.dtype, offset, size: v.size };
    offset += v.size;
    return slot;
  });
  return { layout, length: offset };
}

/** The model state (parameters and buffers) in state-dict order. */
export function stateEntries(model: Module): Array<[string, tf.Variable]> {
  return [...model.stateDict()];
}

/** The parameters that get gradients, in state-dict order. */
export function trainableEntries(model: Module): Array<[string, tf.Variable]> {
  return model.namedParameters().filter(([, v]) => v.trainable);
}

/** A typed view of one slot in a shared buffer. */
export function slotView(buffer: ArrayBufferLike, s: SlotLayout): Float32Array | Int32Array {
  return s.dtype === 'int32' ? new Int32Array(buffer, s.offset * 4, s.size) : new Float32Array(buffer, s.offset * 4, s.size);
}

/** Copies tensors into `buffer` at their slots (one device read each). */
export function writeSlots(buffer: ArrayBufferLike, layout: SlotLayout[], tensors: tf.Tensor[]): void {
  layout.forEach((s, i) => slotView(buffer, s).set(tensors[i].dataSync() as Float32Array | Int32Array));
}

/**
 * Checks that a replica's tensors match the main thread's layout, name for name and shape for
 * shape (a replica built with other arguments would silently train something else).
 */
export function checkLayout(what: string, layout: SlotLayout[], entries: Array<[string, tf.Variable]>): void {
  const got = entries.map(([n, v]) => `${n}[${v.shape}]`);
  const want = layout.map((s) => `${s.name}[${s.shape}]`);
  const i = want.findIndex((w, k) => w !== got[k]);
  if (i >= 0 || got.length !== want.length) {
    const k = i >= 0 ? i : Math.min(want.length, got.length);
    throw new Error(`data parallel: the worker's ${what} differ from the main thread's at entry ${k}: expected ${want[k] ?? '(end)'}, got ${got[k] ?? '(end)'}`);
  }
}

/**
 * The ArrayBuffers of the typed arrays among `value`'s own properties that span their whole
 * buffer (to transfer a shard; a view into a larger buffer may share it with other data, so it is
 * copied instead).
 */
export function transferables(value: unknown): ArrayBuffer[] {
  if (typeof value !== 'object' || value === null) return [];
  const out = new Set<ArrayBuffer>();
  for (const v of Object.values(value)) if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
  return [...out];
}

/**
 * The state a worker's random generator starts a step from: a hash of the main thread's
 * generator state at the start of the step and the replica's index (murmur3's finaliser), so each
 * replica draws its own samples and a run stays a pure function of the checkpointed state.
 */
export function replicaRngState(state: number, replica: number): number {
  let h = Math.imul((state ^ Math.imul(replica, 0x9e3779b9)) >>> 0, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
