/**
 * Per-kernel CPU time for the benchmarks (issue 3, "profile per kernel"): every kernel of a
 * backend is wrapped so that its calls are counted and timed with process.cpuUsage. CPU time
 * rather than wall time, because this 2-core machine is shared: wall time swings with other jobs,
 * while the wasm backend computes on this process's one thread. Nested kernel calls (a kernel
 * that runs others) count to their caller.
 */
import * as tf from '@tensorflow/tfjs-core';

/** CPU ms and number of calls of one kernel. */
export interface KernelCpu {
  ms: number;
  calls: number;
}

const kernelCpu = new Map<string, KernelCpu>();
let depth = 0;

/** This process's CPU time in ms (user + system). */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/**
 * Wraps every kernel registered for `backend` (call after all of them are registered).
 * @param clock ms of the clock to time with: CPU time by default, `performance.now` for wall time
 *   (multi-threaded kernels: CPU time would add up the threads)
 */
export function instrumentKernels(backend = 'wasm', clock: () => number = cpuMs): void {
  for (const config of tf.getKernelsForBackend(backend)) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    const timed: tf.KernelFunc = (args) => {
      if (depth > 0) return inner(args);
      depth++;
      const t0 = clock();
      try {
        return inner(args);
      } finally {
        const ms = clock() - t0;
        depth--;
        const e = kernelCpu.get(name) ?? { ms: 0, calls: 0 };
        e.ms += ms;
        e.calls++;
        kernelCpu.set(name, e);
      }
    };
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
}

/** Returns the times gathered since the last call (or since instrumenting) and starts afresh. */
export function takeKernelCpu(): Map<string, KernelCpu> {
  const out = new Map(kernelCpu);
  kernelCpu.clear();
  return out;
}

/** Adds `from` into `into` (e.g. one run's times into a path's total). */
export function addKernelCpu(into: Map<string, KernelCpu>, from: Map<string, KernelCpu>): void {
  for (const [name, e] of from) {
    const t = into.get(name) ?? { ms: 0, calls: 0 };
    t.ms += e.ms;
    t.calls += e.calls;
    into.set(name, t);
  }
}

/** Per-run averages over `reps` runs, slowest kernel first, ms to 0.1. */
export function kernelTable(times: Map<string, KernelCpu>, reps: number): Record<string, KernelCpu> {
  const out: Record<string, KernelCpu> = {};
  for (const [name, e] of [...times.entries()].sort((p, q) => q[1].ms - p[1].ms)) {
    out[name] = { ms: Math.round((e.ms / reps) * 10) / 10, calls: e.calls / reps };
  }
  return out;
}
