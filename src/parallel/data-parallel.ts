/**
 * Data-parallel training over Node worker threads, the CPU counterpart of PyTorch's
 * DistributedDataParallel. The wasm backend runs one thread per instance in Node, so each
 * replica gets its own thread and its own backend instance (own wasm heap).
 *
 * Design (N replicas, `replicas` >= 2):
 * - The main thread is replica 0: it runs the Trainer's own model on shard 0 while N - 1 worker
 *   threads run shards 1..N-1. On a 2-core machine that is 2 computing threads; a main thread
 *   that only waited would hold a third copy of the model for nothing.
 * - The main thread owns the optimiser. Each step it writes its state (parameters and buffers)
 *   to a SharedArrayBuffer, posts each worker its shard (ArrayBuffers transferred) and computes
 *   shard 0; each worker loads the shared state, computes its shard's loss and gradients and
 *   writes the gradients to its own SharedArrayBuffer. The main thread averages the gradients,
 *   weighting shard k by its share of the examples (n_k / n: with mean losses this is the
 *   full-batch gradient), and the Trainer applies SGD once. Sending the weights each step costs
 *   the same bytes as sending averaged gradients back (one copy per parameter), but keeps a single
 *   optimiser: momentum, checkpoints and exact resume stay the Trainer's, and the replicas are
 *   identical at every step by construction (they compute from a copy of the same weights), not
 *   by trusting N optimisers to round alike, and no worker spends time on an SGD update. Measured
 *   (bench:train `phases_ms`): publishing the state + averaging the gradients costs 2 + 8 ms
 *   per ResNet-20 step and 83 + 68 ms per ResNet-50 step (25.6 M parameters), against 1.6 s
 *   and 9.6 s of compute per thread (docs/training.md, data-parallel training).
 * - BN running statistics: the buffers are part of the broadcast state, so every step starts
 *   from replica 0's running mean/var, as DDP with `broadcast_buffers=True`; each replica
 *   normalises with its own shard's batch statistics (the paper's CIFAR runs used a mini-batch of
 *   128 on two GPUs, i.e. BN over 64 images per GPU, Sec. 4.2).
 * - Errors: an exception in a worker, a crashed or exited worker, reject the pending call with
 *   `DataParallelError` (the worker's message) and terminate every worker; the object is then
 *   closed.
 *
 * Threads: on the native backend (multi-threaded kernels) the cores are split between the
 * replicas: each gets RESDET_THREADS (default: every core) / replicas threads, at least one, so
 * N replicas never run N x cores threads on the machine.
 *
 * Random generators inside a task (e.g. a detector's RoI sampler): worker k's generator is
 * reset each step from the main thread's (`rngs`, `replicaRngState`), so exact resume holds with
 * only the main thread's state in the checkpoint. Classification draws none.
 */
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { Layer, Module } from '../nn/index.ts';
import { taskGradients, type BatchGradients, type TrainTask } from '../train/trainer.ts';
import type { Rng } from '../random.ts';
import { shardSizes } from './shards.ts';
import { configuredThreads, threadsPerReplica } from '../backend/threads.ts';
import { layoutOf, replicaRngState, slotView, stateEntries, trainableEntries, transferables, writeSlots, type MainToWorker, type ReplicaSpec, type SlotLayout, type WorkerToMain } from './protocol.ts';

export type { ReplicaSpec } from './protocol.ts';

export interface DataParallelOptions<B> {
  /** this thread's model: replica 0 and the one the optimiser updates */
  model: Module;
  /** this thread's task (replica 0's) */
  task: TrainTask<B>;
  /** how a worker builds its own model and task (same architecture as `model`) */
  replica: ReplicaSpec;
  /** splits a batch into at most `parts` shards, in order; the first one runs in this thread */
  split(batch: B, parts: number): B[];
  /** threads computing, this one included; >= 2 */
  replicas: number;
  /**
   * random generators of this thread's task, by name (e.g. a detector's RoI sampler); each step
   * worker k's generator of the same name starts from `replicaRngState(state, k)`
   */
  rngs?: Record<string, Rng>;
  /** backend for the workers; default: this thread's (`tf.getBackend()`) */
  backend?: string;
  /**
   * this thread's eval-mode forward for `forward()` (e.g. `fuseForInference(model).forward`);
   * default `model.forward`. Workers use their replica's `infer`.
   */
  infer?(x: tf.Tensor): tf.Tensor;
}

/** Milliseconds spent in each phase of `gradients()`, summed over calls (bench:train reports them). */
export interface ParallelTimings {
  steps: number;
  /** writing this thread's state to the shared buffer */
  publish: number;
  /** this thread's shard: forward and backward */
  local: number;
  /** waiting for the workers after this thread's shard was done */
  wait: number;
  /** reading the workers' gradients and averaging */
  average: number;
}

/** A worker failed (its exception, a crash or an exit); every worker has been terminated. */
export class DataParallelError extends Error {
  constructor(
    message: string,
    readonly workerStack?: string,
  ) {
    super(message);
    this.name = 'DataParallelError';
  }
}

interface Pending {
  resolve(m: WorkerToMain): void;
  reject(e: Error): void;
}

/** One worker thread and its outstanding requests. */
class WorkerHandle {
  readonly pending = new Map<number | null, Pending>();
  exited = false;
  /** the main model's `version` this worker last loaded (-1: none yet) */
  loaded = -1;
  constructor(
    readonly index: number,
    readonly thread: Worker,
    readonly gradBuffer: SharedArrayBuffer,
  ) {}

  request(m: MainToWorker, transfer: ArrayBuffer[] = []): Promise<WorkerToMain> {
    const id = m.type === 'init' ? null : m.id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage(m, transfer);
    });
  }
}

/** The worker threads of one data-parallel model; see the module comment. */
export class DataParallel<B> {
  readonly replicas: number;
  private readonly workers: WorkerHandle[] = [];
  private readonly stateLayout: SlotLayout[];
  private readonly gradLayout: SlotLayout[];
  private readonly stateBuffer: SharedArrayBuffer;
  private nextId = 0;
  private failure: DataParallelError | undefined;
  private closed = false;
  /** puts this thread's native kernel threads back after close (set by start on native) */
  private restoreThreads?: () => Promise<void>;
  private closing: Promise<void> | undefined;
  /** bumped whenever the main model may change (each training step, `markStale()`) */
  private version = 0;
  /** where `gradients()` spends its time */
  readonly timings: ParallelTimings = { steps: 0, publish: 0, local: 0, wait: 0, average: 0 };

  private constructor(private readonly opts: DataParallelOptions<B>) {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 2) throw new Error(`data parallel: replicas: expected an integer >= 2, got ${opts.replicas}`);
    this.replicas = opts.replicas;
    const state = layoutOf(stateEntries(opts.model));
    const grads = layoutOf(trainableEntries(opts.model));
    this.stateLayout = state.layout;
    this.gradLayout = grads.layout;
    this.stateBuffer = new SharedArrayBuffer(state.length * 4);
    const env = { ...process.env, RESDET_THREADS: String(threadsPerReplica(opts.replicas)) };
    for (let k = 1; k < opts.replicas; k++) {
      const thread = new Worker(new URL('./worker-entry.js', import.meta.url), { env });
      const w = new WorkerHandle(k, thread, new SharedArrayBuffer(grads.length * 4));
      thread.on('message', (m: WorkerToMain) => this.onMessage(w, m));
      thread.on('error', (err) => this.fail(new DataParallelError(`data-parallel worker ${k} crashed: ${err.message}`, err.stack)));
      thread.on('messageerror', (err) => this.fail(new DataParallelError(`data-parallel worker ${k}: a message could not be read: ${err.message}`)));
      thread.on('exit', (code) => {
        w.exited = true;
        if (!this.closed) this.fail(new DataParallelError(`data-parallel worker ${k} exited unexpectedly (code ${code})`));
      });
      this.workers.push(w);
    }
  }

  /**
   * Starts `replicas - 1` worker threads and builds their replicas (seconds: each loads tfjs and
   * its backend). Rejects, with every worker terminated, when a replica cannot be built or does
   * not match `model`.
   */
  static async start<B>(opts: DataParallelOptions<B>): Promise<DataParallel<B>> {
    const dp = new DataParallel(opts);
    const backend = opts.backend ?? tf.getBackend();
    if (backend === 'native') {
      const { setNativeThreads } = await import('../backend/native/backend.ts');
      setNativeThreads(threadsPerReplica(opts.replicas));
      dp.restoreThreads = async () => setNativeThreads(configuredThreads());
    }
    try {
      await Promise.all(dp.workers.map((w) => w.request({ type: 'init', backend, spec: opts.replica, state: dp.stateLayout, grads: dp.gradLayout, stateBuffer: dp.stateBuffer, gradBuffer: w.gradBuffer })));
    } catch (err) {
      await dp.close();
      throw err;
    }
    return dp;
  }

  private onMessage(w: WorkerHandle, m: WorkerToMain): void {
    if (m.type === 'error') {
      this.fail(new DataParallelError(`data-parallel worker ${w.index}: ${m.message}`, m.stack));
      return;
    }
    const id = m.type === 'ready' ? null : m.id;
    const p = w.pending.get(id);
    w.pending.delete(id);
    p?.resolve(m);
  }

  /** Rejects every pending request with `err` and terminates the workers (once). */
  private fail(err: DataParallelError): void {
    if (this.failure || this.closed) return;
    this.failure = err;
    for (const w of this.workers) {
      for (const p of w.pending.values()) p.reject(err);
      w.pending.clear();
    }
    void this.close();
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('data parallel: used after close()');
  }

  /** Writes the main model's state to the shared buffer (workers load it with their next request). */
  private publishState(): void {
    writeSlots(this.stateBuffer, this.stateLayout, stateEntries(this.opts.model).map(([, v]) => v));
  }

  /**
   * The loss, metrics and example-weighted mean gradient of `batch` over all replicas (the
   * Trainer's `gradients` option). The gradients are keyed by this thread's variable names.
   */
  async gradients(batch: B, step: number): Promise<BatchGradients> {
    this.check();
    const t = this.timings;
    let t0 = performance.now();
    const shards = this.opts.split(batch, this.replicas);
    this.publishState();
    const replies = shards.slice(1).map((shard, i) => {
      this.workers[i].loaded = this.version;
      const rngs = Object.fromEntries(Object.entries(this.opts.rngs ?? {}).map(([name, r]) => [name, replicaRngState(r.state, i + 1)]));
      return this.workers[i].request({ type: 'step', id: this.nextId++, step, shard, syncState: true, rngs }, transferables(shard));
    });
    // The model changes with the update that follows; a later forward() must reload it.
    this.version += 1;
    t.publish += performance.now() - t0;
    t0 = performance.now();
    let local: BatchGradients;
    try {
      local = taskGradients(this.opts.model, this.opts.task, shards[0], step);
    } catch (err) {
      // this thread failed mid-step: the workers' replies would be out of step with the next one
      void Promise.allSettled(replies);
      await this.close();
      throw err;
    }
    t.local += performance.now() - t0;
    t0 = performance.now();
    let others: Array<Extract<WorkerToMain, { type: 'grads' }>>;
    try {
      others = (await Promise.all(replies)) as typeof others;
    } catch (err) {
      tf.dispose(local.grads);
      await this.close();
      throw err;
    }
    t.wait += performance.now() - t0;
    t0 = performance.now();
    const mean = this.average(local, others);
    t.average += performance.now() - t0;
    t.steps += 1;
    return mean;
  }

  /** Example-weighted mean of this thread's gradients and the workers' (read from their buffers). */
  private average(local: BatchGradients, others: Array<Extract<WorkerToMain, { type: 'grads' }>>): BatchGradients {
    const examples = local.examples + others.reduce((n, o) => n + o.examples, 0);
    const w0 = local.examples / examples;
    const weights = others.map((o) => o.examples / examples);
    const mean = (own: number, vals: number[]): number => own * w0 + vals.reduce((s, v, k) => s + v * weights[k], 0);
    const metrics = Object.fromEntries(Object.entries(local.metrics).map(([n, v]) => [n, mean(v, others.map((o) => o.metrics[n] ?? NaN))]));
    const vars = trainableEntries(this.opts.model);
    if (vars.length !== this.gradLayout.length || vars.some(([name], i) => name !== this.gradLayout[i].name)) {
      tf.dispose(local.grads);
      throw new Error('data parallel: the set of trainable parameters changed after start(); start a new DataParallel after freezing or unfreezing');
    }
    const grads: tf.NamedTensorMap = {};
    vars.forEach(([name, v], i) => {
      const g0 = local.grads[v.name];
      if (!g0) throw new Error(`data parallel: the task gave no gradient for ${name}`);
      const s = this.gradLayout[i];
      grads[v.name] = tf.tidy(() =>
        others.reduce((acc, _o, k) => tf.add(acc, tf.mul(tf.tensor(slotView(this.workers[k].gradBuffer, s), s.shape, 'float32'), weights[k])), tf.mul(g0, w0)),
      );
    });
    tf.dispose(local.grads);
    return { loss: mean(local.loss, others.map((o) => o.loss)), metrics, examples, grads };
  }

  /**
   * Eval-mode forward pass of `x` split along its first axis over the replicas (inference);
   * the model must be a Layer. Loads the main model's weights into the workers first when they
   * may have changed (after a training step, or after `markStale()`).
   * @param x [N, ...] -> the model's output, [N, ...]
   */
  async forward(x: tf.Tensor): Promise<tf.Tensor> {
    this.check();
    const model = this.opts.model as Layer;
    const sizes = shardSizes(x.shape[0], this.replicas);
    // only the workers that take part and hold older weights reload them
    const busy = this.workers.slice(0, sizes.length - 1);
    if (busy.some((w) => w.loaded !== this.version)) this.publishState();
    const replies = sizes.slice(1).map((size, i) => {
      const xs = tf.tidy(() => tf.slice(x, sizes.slice(0, i + 1).reduce((a, b) => a + b, 0), size));
      const data = Float32Array.from(xs.dataSync() as Float32Array);
      const shape = xs.shape;
      xs.dispose();
      const w = busy[i];
      const syncState = w.loaded !== this.version;
      w.loaded = this.version;
      return w.request({ type: 'forward', id: this.nextId++, x: data, shape, syncState }, [data.buffer]);
    });
    const wasTraining = model.training;
    model.eval();
    let y0: tf.Tensor;
    try {
      y0 = tf.tidy(() => (this.opts.infer ?? ((t: tf.Tensor) => model.forward(t)))(tf.slice(x, 0, sizes[0])));
    } catch (err) {
      void Promise.allSettled(replies);
      await this.close();
      throw err;
    } finally {
      model.train(wasTraining);
    }
    let outs: Array<Extract<WorkerToMain, { type: 'output' }>>;
    try {
      outs = (await Promise.all(replies)) as typeof outs;
    } catch (err) {
      y0.dispose();
      await this.close();
      throw err;
    }
    if (!outs.length) return y0;
    const y = tf.tidy(() => tf.concat([y0, ...outs.map((o) => tf.tensor(o.y, o.shape, 'float32'))], 0));
    y0.dispose();
    return y;
  }

  /** Worker threads still running (0 after `close()` or a failure). */
  liveWorkers(): number {
    return this.workers.filter((w) => !w.exited).length;
  }

  /** Tells `forward` that the main model's weights changed outside a training step (e.g. a load). */
  markStale(): void {
    this.version += 1;
  }

  /**
   * Each worker's current state (replicas 1..N-1), by state-dict name; the caller disposes the
   * tensors. A worker holds the weights of the last step or forward it ran.
   */
  async replicaStates(): Promise<Array<Map<string, tf.Tensor>>> {
    this.check();
    const replies = (await Promise.all(this.workers.map((w) => w.request({ type: 'state', id: this.nextId++ })))) as Array<Extract<WorkerToMain, { type: 'state' }>>;
    return replies.map((r) => new Map(this.stateLayout.map((s) => [s.name, tf.tensor(slotView(r.values, s).slice(), s.shape, s.dtype)])));
  }

  /** Terminates the workers; safe to call more than once (later calls wait for the first). */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    for (const w of this.workers) {
      for (const p of w.pending.values()) p.reject(this.failure ?? new DataParallelError('data parallel: closed while a request was pending'));
      w.pending.clear();
    }
    this.closing = Promise.all(
      this.workers.map(async (w) => {
        await w.thread.terminate();
        w.exited = true;
      }),
    ).then(() => this.restoreThreads?.());
    return this.closing;
  }
}
