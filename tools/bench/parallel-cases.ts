/**
 * bench:train's data-parallel cases (`<case>_w<N>`, e.g. r20train_w2): the same training step
 * and inference as the one-thread cases, with the batch split over N threads (this one and
 * N - 1 workers, src/parallel/). Each reports where the main thread's step time goes
 * (`phases_ms`: publishing the weights, its own shard, waiting for the workers, averaging), and
 * the process's CPU ms (all threads): on a machine shared with other jobs the scheduler may give
 * this process one core's share whatever its thread count, so wall time shows the speed-up only
 * on an idle machine, while CPU ms shows what the parallel step costs in all, and the CPU ms of
 * the busiest threads (`thread_cpu_ms_per_step`, Linux) how the work split between them.
 */
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { createBackbone } from '../../backbones/index.ts';
import { fuseForInference } from '../../src/nn/fuse.ts';
import { startClassificationParallel } from '../../tasks/classification/parallel.ts';
import type { ClassificationBatch } from '../../src/train/classification.ts';
import { classificationTask } from '../../src/train/classification.ts';
import { constantLr } from '../../src/train/schedule.ts';
import { Trainer } from '../../src/train/trainer.ts';

/**
 * CPU ms used so far by each thread of this process, by thread id (Linux: utime + stime of
 * /proc/self/task/<tid>/stat in 10 ms clock ticks); empty where /proc is absent.
 */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      // fields after the parenthesised name: state is field 3, utime 14 and stime 15 (man 5 proc)
      const f = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * CPU ms per step of the `n` busiest threads between two `threadCpuMs` readings: with one
 * thread per replica, the largest is the step's critical path on an idle machine, and the
 * split shows that the shards ran on separate threads.
 */
function busiestThreads(before: Map<string, number>, after: Map<string, number>, n: number, steps: number): number[] {
  return [...after].map(([tid, ms]) => (ms - (before.get(tid) ?? 0)) / steps).sort((a, b) => b - a).slice(0, n).map(Math.round);
}

/** Splits a case name `r20train_w2` into its base case and thread count (1 without a suffix). */
export function parseWorkers(name: string): { base: string; workers: number } {
  const m = /^(.*)_w(\d+)$/.exec(name);
  return m ? { base: m[1], workers: Number(m[2]) } : { base: name, workers: 1 };
}

/**
 * Times `steps` data-parallel training steps after one warm-up step.
 * @param b the batch, [batch, side, side, 3]
 */
export async function benchTrainParallel(model: string, b: ClassificationBatch, classes: number, workers: number, steps: number): Promise<Record<string, unknown>> {
  const options = { numClasses: classes, seed: 1 };
  const net = createBackbone(model, options);
  const t0 = performance.now();
  const dp = await startClassificationParallel(net, model, options, workers);
  const startMs = performance.now() - t0;
  try {
    const trainer = new Trainer({ model: net, task: classificationTask(net), data: { batch: async () => b }, schedule: constantLr(0.01), iterations: Infinity, gradients: (x, s) => dp.gradients(x, s) });
    await trainer.trainStepAsync(b); // warm-up: kernel compilation, momentum buffers
    const before = { ...dp.timings };
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const th1 = threadCpuMs();
    for (let i = 0; i < steps; i++) await trainer.trainStepAsync(b);
    const ms = (performance.now() - t1) / steps;
    const cpu = process.cpuUsage(c1);
    const threads = busiestThreads(th1, threadCpuMs(), workers, steps);
    const phase = (k: 'publish' | 'local' | 'wait' | 'average'): number => Math.round((dp.timings[k] - before[k]) / steps);
    trainer.dispose();
    const batch = b.labels.length;
    return {
      model, batch, workers, per_worker_batch: Math.ceil(batch / workers), input: `${b.shape[1]}x${b.shape[2]}`,
      ms_per_step: Math.round(ms), images_per_s: Number(((1000 * batch) / ms).toFixed(2)), cpu_ms_per_step: Math.round((cpu.user + cpu.system) / 1000 / steps), thread_cpu_ms_per_step: threads,
      phases_ms: { publish: phase('publish'), local: phase('local'), wait: phase('wait'), average: phase('average') },
      start_ms: Math.round(startMs),
    };
  } finally {
    await dp.close();
    net.dispose();
  }
}

/** Times `steps` eval-mode forward passes (folded BN, logits read back) split over `workers` threads. */
export async function benchInferParallel(model: string, batch: number, workers: number, steps: number): Promise<Record<string, unknown>> {
  const options = { numClasses: 1000, seed: 1 };
  const net = createBackbone(model, options).eval();
  const fused = fuseForInference(net);
  const dp = await startClassificationParallel(net, model, options, workers, (x) => fused.forward(x));
  const x = tf.tidy(() => tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 3));
  try {
    const run = async (): Promise<void> => {
      const y = await dp.forward(x);
      y.dataSync();
      y.dispose();
    };
    await run(); // warm-up (and the weights' first broadcast)
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const th0 = threadCpuMs();
    for (let i = 0; i < steps; i++) await run();
    const ms = (performance.now() - t0) / steps;
    const cpu = process.cpuUsage(c0);
    const threads = busiestThreads(th0, threadCpuMs(), workers, steps);
    return {
      model, batch, workers, path: 'folded BN (fuseForInference)', ms_per_batch: Math.round(ms), ms_per_image: Math.round(ms / batch), images_per_s: Number(((1000 * batch) / ms).toFixed(2)),
      cpu_ms_per_image: Math.round((cpu.user + cpu.system) / 1000 / steps / batch), thread_cpu_ms_per_batch: threads,
    };
  } finally {
    x.dispose();
    await dp.close();
    fused.dispose();
    net.dispose();
  }
}

/**
 * How much two threads get here now: wall ms of one thread spinning a fixed JS loop, then of two
 * at once. On an idle 2-core machine `ratio` is about 1 (both run side by side); when other jobs
 * load the machine (Linux shares CPU between sessions, not threads) it nears 2, and the
 * data-parallel cases cannot show a wall-clock gain whatever their CPU split.
 */
export async function twoThreadProbe(): Promise<Record<string, number>> {
  const code = `const { parentPort } = require('node:worker_threads'); let x = 0; for (let i = 0; i < 3e8; i++) x += i % 7; parentPort.postMessage(x);`;
  const spin = async (n: number): Promise<number> => {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
      const w = new Worker(code, { eval: true });
      w.once('message', () => void w.terminate().then(() => resolve()));
      w.once('error', reject);
    })));
    return performance.now() - t0;
  };
  const one = await spin(1);
  const two = await spin(2);
  return { one_thread_ms: Math.round(one), two_threads_ms: Math.round(two), ratio: Number((two / one).toFixed(2)) };
}
