/**
 * The body of one data-parallel worker thread (started through worker-entry.js, which loads
 * tsx first). It owns a model replica on its own backend instance (for wasm: its own module and
 * 4 GB heap) and answers the main thread's requests one at a time:
 *
 *   init     -> build the replica (`createReplica(args)` of the spec's module), check that its
 *               state and trainable parameters match the main thread's layout -> ready
 *   step     -> load the shared state if asked, `taskGradients` on the shard, write the
 *               gradients to this worker's shared buffer -> grads (loss, metrics, examples)
 *   forward  -> load the shared state if asked, eval-mode forward of the shard -> output
 *   state    -> a copy of the replica's state (tests check that replicas stay identical)
 *
 * Any error is sent back as an `error` message; the main thread then terminates every worker.
 */
import { parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/index.ts';
import type { Layer, Module } from '../nn/index.ts';
import type { Rng } from '../random.ts';
import { taskGradients, type TrainTask } from '../train/trainer.ts';
import { checkLayout, slotView, stateEntries, trainableEntries, writeSlots, type MainToWorker, type SlotLayout, type WorkerToMain } from './protocol.ts';

/** What a replica module's `createReplica(args)` returns. */
export interface Replica<B = unknown> {
  model: Module;
  task: TrainTask<B>;
  /** eval-mode forward for inference (e.g. with folded BN); default `model.forward` */
  infer?(x: tf.Tensor): tf.Tensor;
  /** the task's random generators, by the names the main thread gives (`DataParallelOptions.rngs`) */
  rngs?: Record<string, Rng>;
}

/** The export a replica module provides (see `ReplicaSpec`). */
export type ReplicaFactory<B = unknown> = (args: never) => Replica<B> | Promise<Replica<B>>;

interface Ready {
  replica: Replica;
  state: SlotLayout[];
  grads: SlotLayout[];
  stateBuffer: SharedArrayBuffer;
  gradBuffer: SharedArrayBuffer;
  /** the replica's state variables, in layout order */
  stateVars: tf.Variable[];
  /** tfjs names of the trainable variables, in gradient-layout order */
  gradNames: string[];
}

const port = parentPort;
if (!port) throw new Error('src/parallel/worker.ts runs only as a worker thread (see data-parallel.ts)');
let ready: Ready | undefined;

async function init(m: Extract<MainToWorker, { type: 'init' }>): Promise<void> {
  await initBackend(m.backend);
  const url = m.spec.module.startsWith('file:') ? m.spec.module : pathToFileURL(m.spec.module).href;
  const mod = (await import(url)) as { createReplica?: ReplicaFactory };
  if (typeof mod.createReplica !== 'function') throw new Error(`data parallel: ${m.spec.module} exports no createReplica(args)`);
  const replica = await mod.createReplica(m.spec.args as never);
  // The main thread decides what trains (e.g. frozen stages); the replica follows it.
  const trainable = new Set(m.grads.map((s) => s.name));
  for (const [name, v] of replica.model.namedParameters()) v.trainable = trainable.has(name);
  const states = stateEntries(replica.model);
  const grads = trainableEntries(replica.model);
  checkLayout('state-dict entries', m.state, states);
  checkLayout('trainable parameters', m.grads, grads);
  ready = { replica, state: m.state, grads: m.grads, stateBuffer: m.stateBuffer, gradBuffer: m.gradBuffer, stateVars: states.map(([, v]) => v), gradNames: grads.map(([, v]) => v.name) };
}

/** Copies the main thread's state from the shared buffer into the replica's variables. */
function loadState(r: Ready): void {
  r.state.forEach((s, i) => {
    // slice(): a private copy, since the cpu backend would keep the view and the main thread
    // overwrites the shared buffer next step
    const t = tf.tensor(slotView(r.stateBuffer, s).slice(), s.shape, s.dtype);
    r.stateVars[i].assign(t);
    t.dispose();
  });
}

function handle(m: Exclude<MainToWorker, { type: 'init' }>, r: Ready): WorkerToMain {
  if (m.type === 'state') {
    const values = new ArrayBuffer(r.stateBuffer.byteLength);
    writeSlots(values, r.state, r.stateVars);
    return { type: 'state', id: m.id, values };
  }
  if (m.syncState) loadState(r);
  if (m.type === 'step') {
    for (const [name, state] of Object.entries(m.rngs)) {
      const rng = r.replica.rngs?.[name];
      if (!rng) throw new Error(`data parallel: the replica has no random generator '${name}'`);
      rng.state = state;
    }
    const g = taskGradients(r.replica.model, r.replica.task, m.shard, m.step);
    try {
      writeSlots(r.gradBuffer, r.grads, r.gradNames.map((n) => {
        const t = g.grads[n];
        if (!t) throw new Error(`data parallel: the worker's task gave no gradient for ${r.grads[r.gradNames.indexOf(n)].name}`);
        return t;
      }));
    } finally {
      tf.dispose(g.grads);
    }
    return { type: 'grads', id: m.id, loss: g.loss, metrics: g.metrics, examples: g.examples };
  }
  const model = r.replica.model as Layer;
  if (typeof model.forward !== 'function') throw new Error('data parallel: forward needs a replica model with forward(x)');
  const infer = r.replica.infer ?? ((x: tf.Tensor) => model.forward(x));
  model.eval();
  try {
    const y = tf.tidy(() => infer(tf.tensor(m.x, m.shape, 'float32')));
    const values = Float32Array.from(y.dataSync() as Float32Array);
    const shape = y.shape;
    y.dispose();
    return { type: 'output', id: m.id, y: values, shape };
  } finally {
    model.train();
  }
}

// One request at a time, in arrival order (init is async; the rest run synchronously).
let queue = Promise.resolve();
port.on('message', (m: MainToWorker) => {
  queue = queue.then(async () => {
    const id = m.type === 'init' ? null : m.id;
    try {
      if (m.type === 'init') {
        await init(m);
        port.postMessage({ type: 'ready' } satisfies WorkerToMain);
        return;
      }
      if (!ready) throw new Error('data parallel: request before init');
      const reply = handle(m, ready);
      const transfer = reply.type === 'output' ? [reply.y.buffer as ArrayBuffer] : reply.type === 'state' ? [reply.values] : [];
      port.postMessage(reply, transfer);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ type: 'error', id, message: e.message, stack: e.stack } satisfies WorkerToMain);
    }
  });
});
