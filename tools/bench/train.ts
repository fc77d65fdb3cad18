/**
 * `npm run bench:train`: images/s of full training steps (forward, backward, SGD update with
 * momentum and weight decay) for ResNet-20 on CIFAR-sized input (batch 128) and ResNet-50 at
 * 224x224 (batch 8, or 4 where 8 does not fit), and ResNet-50 inference (eval mode, batch 1 and
 * 8; folded BN and, under `unfolded`, the modules' own forward). Prints one JSON object: per case
 * key, one result per backend (`{"wasm": {...}, "native": {...}}`), each with its PyTorch peer and
 * the throughput ratio (./peer.ts), then `pytorch` (how the peer ran, or why it did not) and
 * `comparison` (one row per case and backend: resdet, PyTorch and the ratios side by side).
 *
 * Each case runs in its own child process: a wasm abort (out of memory) ends only that case,
 * which is then reported with its error, and the ResNet-50 training batch is the largest of
 * BENCH_R50_BATCHES (tried in the order given) that runs.
 *
 * Environment: BENCH_STEPS (timed steps per case, default 3), BENCH_R50_BATCHES (default "8,4"),
 * BENCH_CASES (comma list of r20train, r50train, r50infer1, r50infer8 and the data-parallel
 * r20train_w2, r50train_w2, r50infer8_w2 (./parallel-cases.ts; `_wN` for N threads); default all),
 * BENCH_KERNELS=1 (per-kernel CPU ms of each inference path), BENCH_BACKENDS (default the
 * backends that load, or RESDET_BACKEND), and the PyTorch peer's BENCH_PYTHON, BENCH_PEER=0,
 * BENCH_PEER_TIMEOUT_S (./peer.ts). */
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createBackbone } from '../../backbones/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { fuseForInference } from '../../src/nn/fuse.ts';
import { classificationTask } from '../../src/train/classification.ts';
import { constantLr } from '../../src/train/schedule.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { addKernelCpu, instrumentKernels, kernelTable, takeKernelCpu, type KernelCpu } from './kernel-cpu.ts';
import { childSpec, runChild, serveChild } from './child.ts';
import { randomBatch } from './workloads.ts';
import { PROBE_SPEC, TorchPeers, benchBackends, probeResult, type BenchBackend } from './peer.ts';
import { benchInferParallel, benchTrainParallel, parseWorkers, twoThreadProbe } from './parallel-cases.ts';

const steps = Number(process.env.BENCH_STEPS ?? 3);
const r50Batches = (process.env.BENCH_R50_BATCHES ?? '8,4').split(',').map(Number);
const cases = (process.env.BENCH_CASES ?? 'r20train,r50train,r50infer1,r50infer8,r20train_w2,r50train_w2,r50infer8_w2').split(',');
/** BENCH_KERNELS=1: per-kernel CPU ms of the inference cases (./kernel-cpu.ts) */
const profile = process.env.BENCH_KERNELS === '1';


/** Times `steps` training steps after one warm-up step. */
function benchTrain(model: string, batch: number, side: number, classes: number): Record<string, number | string> {
  const net = createBackbone(model, { numClasses: classes, seed: 1 });
  const b = randomBatch(batch, side, classes, 2);
  const trainer = new Trainer({ model: net, task: classificationTask(net), data: { batch: async () => b }, schedule: constantLr(0.01), iterations: Infinity });
  trainer.trainStep(b); // warm-up: kernel compilation, momentum buffers
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) trainer.trainStep(b);
  const ms = (performance.now() - t0) / steps;
  const cpu = process.cpuUsage(c0);
  trainer.dispose();
  net.dispose();
  return { model, batch, input: `${side}x${side}`, ms_per_step: Math.round(ms), images_per_s: Number(((1000 * batch) / ms).toFixed(2)), cpu_ms_per_step: Math.round((cpu.user + cpu.system) / 1000 / steps) };
}

/**
 * ms per batch, per image and images/s of `ms` wall-clock milliseconds per batch of `batch`, and
 * this process's CPU ms per image (the wasm backend computes on one thread, so CPU time is what
 * a run costs even when other jobs share the machine and stretch the wall time).
 */
function rates(ms: number, cpuMs: number, batch: number): Record<string, number> {
  return { ms_per_batch: Math.round(ms), ms_per_image: Math.round(ms / batch), images_per_s: Number(((1000 * batch) / ms).toFixed(2)), cpu_ms_per_image: Math.round(cpuMs / batch) };
}

/**
 * Times inference in eval mode (logits read back) after one warm-up run of each path: the
 * modules' own forward (`unfolded`) and fuseForInference's path with every BN folded into its
 * conv (the top-level numbers, what `resdet classify` / `eval-classifier` run). Runs alternate
 * between the two, so load from other processes hits both alike.
 */
function benchInfer(model: string, batch: number): Record<string, unknown> {
  const net = createBackbone(model, { numClasses: 1000, seed: 1 }).eval();
  const fused = fuseForInference(net);
  const x = tf.tidy(() => tf.randomNormal([batch, 224, 224, 3], 0, 1, 'float32', 3));
  const paths = [(t: tf.Tensor) => fused.forward(t), (t: tf.Tensor) => net.forward(t)];
  const wall = [0, 0];
  const cpu = [0, 0];
  const kernels = [new Map<string, KernelCpu>(), new Map<string, KernelCpu>()];
  if (profile) instrumentKernels(tf.getBackend());
  const run = (i: number): void => tf.tidy(() => void paths[i](x).dataSync());
  run(0);
  run(1);
  takeKernelCpu();
  for (let s = 0; s < steps; s++) {
    for (const i of [0, 1]) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      run(i);
      const c = process.cpuUsage(c0);
      cpu[i] += (c.user + c.system) / 1000;
      wall[i] += performance.now() - t0;
      addKernelCpu(kernels[i], takeKernelCpu());
    }
  }
  const [folded, unfolded] = [0, 1].map((i) => ({
    ...rates(wall[i] / steps, cpu[i] / steps, batch),
    ...(profile ? { kernels_cpu_ms: kernelTable(kernels[i], steps) } : {}),
  }));
  x.dispose();
  fused.dispose();
  net.dispose();
  return { model, batch, path: 'folded BN (fuseForInference)', ...folded, unfolded, speedup: Number((wall[1] / wall[0]).toFixed(3)), cpu_speedup: Number((cpu[1] / cpu[0]).toFixed(3)) };
}

/** Runs one case in this process (the child side). */
async function runCase(name: string, batch: number): Promise<Record<string, unknown>> {
  const info = await initBackend();
  const { base, workers } = parseWorkers(name);
  const r = workers > 1
    ? base === 'r20train' ? await benchTrainParallel('resnet20', randomBatch(128, 32, 10, 2), 10, workers, steps)
      : base === 'r50train' ? await benchTrainParallel('resnet50', randomBatch(batch, 224, 1000, 2), 1000, workers, steps) : await benchInferParallel('resnet50', batch, workers, steps)
    : name === 'r20train' ? benchTrain('resnet20', 128, 32, 10) : name === 'r50train' ? benchTrain('resnet50', batch, 224, 1000) : benchInfer('resnet50', batch);
  const threads = (probeResult(info).threads as number) * workers;
  return { ...r, backend: info.chosen, threads, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

/** The PyTorch peer (tools/parity/torch_bench.py) of a case run at `batch`. */
function torchSpec(name: string, batch: number): string {
  const { base } = parseWorkers(name);
  return base === 'r20train' ? 'cls_train:resnet20:128' : base === 'r50train' ? `cls_train:resnet50:${batch}` : `cls_infer:resnet50:${batch}`;
}

const spec = childSpec();
if (spec === PROBE_SPEC) {
  await serveChild(spec, async () => probeResult(await initBackend()));
} else if (spec) {
  const [name, batch] = spec.split(':');
  await serveChild(spec, () => runCase(name, Number(batch)));
} else {
  const script = fileURLToPath(import.meta.url);
  const { backends, skipped } = benchBackends(script);
  const peers = new TorchPeers({ steps });
  const result: Record<string, unknown> = {
    cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg_1m_start: os.loadavg()[0], steps,
    backends: Object.fromEntries(backends.map((b) => [b.name, { threads: b.threads }])), ...(Object.keys(skipped).length ? { backends_skipped: skipped } : {}),
  };
  /** result[key][backend] = r, and r's PyTorch peer at the threads it used */
  const put = (key: string, b: BenchBackend, name: string, r: Record<string, unknown>): void => {
    ((result[key] ??= {}) as Record<string, unknown>)[b.name] = r;
    peers.add(r, torchSpec(name, Number(r.batch ?? r50Batches[0])), TorchPeers.threads(b, parseWorkers(name).workers), key, b.name);
  };
  /** Runs one case in a child process on backend `b`; returns its JSON or the error that ended it. */
  const child = (b: BenchBackend, name: string, batch: number): Record<string, unknown> => {
    const r = runChild(script, `${name}:${batch}`, { env: { RESDET_BACKEND: b.name } });
    return r.error ? { case: name, batch, error: r.error } : r;
  };
  /** the first of BENCH_R50_BATCHES that runs (and the errors of those before it) */
  const largestBatch = (b: BenchBackend, name: string): Record<string, unknown> => {
    const tries = [];
    for (const batch of r50Batches) {
      const r = child(b, name, batch);
      tries.push(r);
      if (!r.error) break;
    }
    const ok = tries.find((t) => !t.error);
    const failed = tries.filter((t) => t.error).map((t) => ({ batch: t.batch, error: t.error }));
    return ok ? { ...ok, ...(failed.length ? { failed } : {}) } : { batch: r50Batches[0], error: failed.at(-1)?.error, failed };
  };
  if (cases.some((c) => parseWorkers(c).workers > 1)) result.two_thread_probe = await twoThreadProbe();
  for (const b of backends) {
    if (cases.includes('r20train')) put('resnet20_train', b, 'r20train', child(b, 'r20train', 128));
    if (cases.includes('r50train')) put('resnet50_train', b, 'r50train', largestBatch(b, 'r50train'));
    if (cases.includes('r50infer1')) put('resnet50_infer_b1', b, 'r50infer1', child(b, 'r50infer', 1));
    if (cases.includes('r50infer8')) put('resnet50_infer_b8', b, 'r50infer8', child(b, 'r50infer', 8));
    for (const name of cases.filter((c) => parseWorkers(c).workers > 1)) {
      put(name, b, name, name.startsWith('r50train') ? largestBatch(b, name) : child(b, name, name.startsWith('r20') ? 128 : 8));
    }
  }
  Object.assign(result, peers.run());
  result.loadavg_1m_end = os.loadavg()[0];
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
