/**
 * Kernel threads of the multi-threaded (native) backend: RESDET_THREADS (or `--threads N`),
 * default every core; `--workers N` data parallelism splits them evenly between the replicas,
 * at least one each, so N replicas never oversubscribe the cores.
 */
import os from 'node:os';

/** RESDET_THREADS when it is a positive whole number, else every core. */
export function configuredThreads(): number {
  const env = Number(process.env.RESDET_THREADS);
  return Number.isInteger(env) && env >= 1 ? env : os.availableParallelism();
}

/** Threads per replica when `replicas` replicas share the configured threads. */
export function threadsPerReplica(replicas: number): number {
  return Math.max(1, Math.floor(configuredThreads() / Math.max(1, replicas)));
}
