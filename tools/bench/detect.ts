/**
 * `npm run bench:detect`: Faster R-CNN at the paper's scale on this machine's backends, printed
 * as one JSON object: per case key, one result per backend (`{"wasm": [...], "native": [...]}`),
 * each training and inference result with its PyTorch peer (tools/parity/torch_bench.py, the same
 * recipe built from torchvision's parts, same threads) and the throughput ratio (./peer.ts), then
 * `pytorch` (how the peer ran, or why not) and `comparison` (resdet, PyTorch, ratios and peak RSS
 * side by side, one row per case and backend).
 *
 * - `train`: training steps of Faster R-CNN ResNet-50 (and ResNet-101 / VGG-16) on a 600 x 1000
 *   input (a seeded random-noise image with 3 GT boxes of 20 VOC classes, padded to 608 x 1008 as
 *   train-detector pads to a multiple of 16), with the VOC preset's detector (detectors/presets/voc.ts:
 *   RoI features 14 x 14 then conv5 per region for the ResNets, 7 x 7 then fc6/fc7 for VGG-16;
 *   128 sampled RoIs, 256 sampled anchors, 2000 proposals after NMS), BN frozen, conv1 + conv2_x
 *   frozen, and its solver (SGD lr 0.001, momentum 0.9, weight decay 1e-4), through the same
 *   trainer and task as `resdet train-detector`. ms per step and images/s over BENCH_STEPS steps
 *   after one warm-up step; batches from BENCH_DETECT_BATCHES are tried in order until one aborts.
 *   The backbone has random weights; each ResNet bottleneck's last BN scale starts at zero
 *   (`zeroInitResiduals`), so the step runs the recipe's full 2000 proposals and 128 RoIs
 *   (`proposals` and `rois` report what it ran) and the losses stay finite.
 * - `fit`: when ResNet-50 batch 1 aborts at 600 x 1000, the same step on the smaller inputs of
 *   BENCH_DETECT_FIT_INPUTS (default "450x750,300x500"), in order until one runs.
 * - `infer`: ResNet-50 `detect` at 600 x 1000 (300 proposals, per-class NMS, 100 detections,
 *   frozen BN folded into the convolutions as `resdet evaluate` runs it): ms per image after one
 *   warm-up image.
 * - `map`: train-detector's raccoon run (`--preset shapes`, split train) for a fixed number of
 *   iterations (BENCH_DETECT_MAP_ITERS), then `evaluate` on the held-out split: VOC mAP@0.5,
 *   COCO mAP, images/s and wall time. Skipped with a note when ../shared/data/raccoon is absent.
 *
 * Every case runs in its own child process (./child.ts), so a wasm out-of-memory abort ends only
 * that case, and reports its process's peak RSS, the wasm heap's size (wasm memory only grows,
 * so its final size is its peak) and the peak of the engine's tensor bytes.
 *
 * Environment: BENCH_STEPS (timed steps per case, default 1: a step takes minutes on a 2-core
 * CPU), BENCH_DETECT_BATCHES (default "1,2"), BENCH_DETECT_BACKBONES (training backbones, default
 * "resnet50,resnet101"), BENCH_CASES (comma list of train, fit, infer, vgg16, map; default all),
 * BENCH_DETECT_MAP_ITERS (default 60), BENCH_DETECT_INPUT (HxW of the train/infer cases, default
 * 600x1000; smaller sizes show how memory scales), BENCH_CASE_TIMEOUT_S (per child; default none),
 * BENCH_BACKENDS (default the backends that load, or RESDET_BACKEND), and the PyTorch peer's
 * BENCH_PYTHON, BENCH_PEER=0, BENCH_PEER_TIMEOUT_S (./peer.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { DetectionBatch } from '../../datasets/detection/index.ts';
import { createDetector, type FasterRCNN } from '../../detectors/index.ts';
import { PRESETS } from '../../detectors/presets/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { FoldedConvs } from '../../src/nn/fuse.ts';
import { constantLr } from '../../src/train/schedule.ts';
import { Trainer, TrainingDivergedError } from '../../src/train/trainer.ts';
import { metricsJson } from '../../tasks/detection/evaluation.ts';
import { loadDetector } from '../../tasks/detection/model.ts';
import { evaluateModel } from '../../tasks/detection/pipeline.ts';
import { detectionTask, trainDetector } from '../../tasks/detection/train.ts';
import { childSpec, runChild, serveChild } from './child.ts';
import { PROBE_SPEC, TorchPeers, benchBackends, probeResult, type BenchBackend } from './peer.ts';
import { noiseBatch, zeroInitResiduals } from './workloads.ts';

/** the paper's scale: shorter side 600, longer side at most 1000 (py-faster-rcnn SCALES, MAX_SIZE) */
const INPUT = process.env.BENCH_DETECT_INPUT ?? '600x1000';
const RACCOON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/raccoon');

const steps = Number(process.env.BENCH_STEPS ?? 1);
const batches = (process.env.BENCH_DETECT_BATCHES ?? '1,2').split(',').map(Number);
const backbones = (process.env.BENCH_DETECT_BACKBONES ?? 'resnet50,resnet101').split(',');
const fitInputs = (process.env.BENCH_DETECT_FIT_INPUTS ?? '450x750,300x500').split(',').filter(Boolean);
const cases = (process.env.BENCH_CASES ?? 'train,fit,infer,vgg16,map').split(',');
const mapIters = Number(process.env.BENCH_DETECT_MAP_ITERS ?? 60);
const timeoutS = Number(process.env.BENCH_CASE_TIMEOUT_S ?? 0);

const MB = 2 ** 20;
const size = (hw: string): number[] => hw.split('x').map(Number);
const round = (v: number, digits = 0) => Number(v.toFixed(digits));

/**
 * CPU ms of this process (all threads) since `c0`: on this shared machine wall time stretches
 * with other jobs' load, CPU time much less (the PyTorch peer reports it too).
 */
function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

/** Peak RSS of this process and the wasm heap's size, in MB. */
function memory(): Record<string, number> {
  const out: Record<string, number> = { peak_rss_mb: Math.round((process.resourceUsage().maxRSS * 1024) / MB) };
  if (tf.getBackend() === 'wasm') out.wasm_heap_mb = Math.round((tf.backend() as BackendWasm).wasm.HEAPU8.buffer.byteLength / MB);
  return out;
}

/**
 * Records the peak of the engine's tensor bytes from now on. tf.profile would give it too, but
 * its kernel timer swallows a kernel's exception (the profiled kernel then "returns" undefined
 * and the step dies with an unrelated TypeError), so the peak is read from a setter on the
 * engine's counter instead, which also sees tensors made outside kernels.
 */
function trackPeakBytes(): () => number {
  const state = tf.engine().state;
  let bytes = state.numBytes;
  let peak = bytes;
  Object.defineProperty(state, 'numBytes', {
    configurable: true,
    enumerable: true,
    get: () => bytes,
    set: (v: number) => {
      bytes = v;
      if (v > peak) peak = v;
    },
  });
  return () => peak;
}

/**
 * Counts what a step really ran: proposals after NMS (first image) and sampled RoIs, read by
 * wrapping this model's RPN forward and RoI sampler (the recipe's numbers are upper bounds).
 */
function countWork(model: FasterRCNN): { proposals?: number; rois?: number } {
  const counts: { proposals?: number; rois?: number } = {};
  const forward = model.rpn.forward.bind(model.rpn);
  model.rpn.forward = (...args) => {
    const out = forward(...args);
    counts.proposals = out.proposals[0].length / 4;
    return out;
  };
  const sample = model.roiHeads.sample.bind(model.roiHeads);
  model.roiHeads.sample = (...args) => {
    const s = sample(...args);
    counts.rois = s.labels.length;
    return s;
  };
  return counts;
}

/** Training steps on `input` (HxW) with the VOC preset (see the module comment). */
async function benchTrain(backbone: string, batch: number, input: string): Promise<Record<string, unknown>> {
  const [height, width] = size(input);
  const voc = PRESETS.voc;
  const model = createDetector(`faster-rcnn-${backbone}`, { ...voc.detector, seed: 0 });
  zeroInitResiduals(model);
  const ran = countWork(model);
  const data = noiseBatch(batch, height, width);
  const trainer = new Trainer<DetectionBatch>({
    model, task: detectionTask(model), data: { batch: async () => data }, schedule: constantLr(voc.solver.lr),
    sgd: { momentum: voc.solver.momentum, weightDecay: voc.solver.weightDecay }, iterations: Infinity,
  });
  const tensorsBefore = tf.memory().numTensors;
  const peak = trackPeakBytes();
  const t0 = performance.now();
  let diverged = 0;
  // The backbone has random weights (no ImageNet weights here) and frozen BN (identity statistics),
  // so activations grow through the blocks and the loss can overflow; a diverged step did all
  // the work but the update and still counts for the timing.
  const step = () => {
    try {
      return trainer.trainStep(data).loss;
    } catch (e) {
      if (!(e instanceof TrainingDivergedError)) throw e;
      diverged++;
      return e.loss;
    }
  };
  const warm = step(); // kernel set-up, momentum buffers
  const warmMs = performance.now() - t0;
  const tensorsAfterWarm = tf.memory().numTensors;
  const losses: number[] = [];
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  for (let i = 0; i < steps; i++) losses.push(step());
  const ms = (performance.now() - t1) / steps;
  const cpuMs = cpuSince(c1) / steps;
  const leaked = tf.memory().numTensors - tensorsAfterWarm;
  const result = {
    backbone, batch, input, padded: `${Math.ceil(height / 16) * 16}x${Math.ceil(width / 16) * 16}`, roi_op: model.config.roiHeads.roiOp,
    pooled: model.roiHeads.pooledSize, rois: ran.rois, anchors: model.config.rpn.batchSizePerImage,
    proposals: ran.proposals, steps, warmup_ms: Math.round(warmMs), ms_per_step: Math.round(ms), cpu_ms_per_step: Math.round(cpuMs),
    images_per_s: round((1000 * batch) / ms, 4), loss_warmup: round(warm, 4), loss_last: round(losses.at(-1) ?? NaN, 4), diverged_steps: diverged,
    tensors_created_by_warmup: tensorsAfterWarm - tensorsBefore, tensors_leaked_per_step: steps > 0 ? leaked / steps : 0,
    tensor_peak_mb: Math.round(peak() / MB), ...memory(),
  };
  trainer.dispose();
  model.dispose();
  return result;
}

/** ResNet-50 inference on `input` (HxW; test-time RPN numbers, per-class NMS, 100 detections). */
async function benchInfer(input: string): Promise<Record<string, unknown>> {
  const [height, width] = size(input);
  const model = createDetector('faster-rcnn-resnet50', { ...PRESETS.voc.detector, seed: 0 });
  zeroInitResiduals(model);
  const ran = countWork(model);
  const x = tf.tensor4d(noiseBatch(1, height, width).images[0].pixels, [1, height, width, 3]);
  // one fold cache over all images, as `resdet evaluate` / `detect` (tasks/detection/inference.ts)
  const convs = new FoldedConvs();
  let dets = 0;
  const run = () => void (dets = model.detect(x, { convs })[0].scores.length);
  const peak = trackPeakBytes();
  const t0 = performance.now();
  run();
  const warmMs = performance.now() - t0;
  const before = tf.memory().numTensors;
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  for (let i = 0; i < steps; i++) run();
  const ms = (performance.now() - t1) / steps;
  const cpuMs = cpuSince(c1) / steps;
  const result = {
    backbone: 'resnet50', input, bn: 'folded (FoldedConvs)', proposals: ran.proposals, max_detections: model.config.roiHeads.detectionsPerImage,
    images: steps, warmup_ms: Math.round(warmMs), ms_per_image: Math.round(ms), cpu_ms_per_image: Math.round(cpuMs), images_per_s: round(1000 / ms, 4), detections: dets,
    tensors_leaked_per_image: steps > 0 ? (tf.memory().numTensors - before) / steps : 0, tensor_peak_mb: Math.round(peak() / MB), ...memory(),
  };
  convs.dispose();
  x.dispose();
  model.dispose();
  return result;
}

/** docs/detection.md's raccoon run (shapes preset) for a fixed iteration budget, then evaluation. */
async function benchMap(): Promise<Record<string, unknown>> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-bench-detect-'));
  try {
    const t0 = performance.now();
    const t = await trainDetector({ data: RACCOON, format: 'voc', preset: 'shapes', split: 'train', iterations: mapIters, out, quiet: true });
    const trainS = (performance.now() - t0) / 1000;
    const { model, spec } = loadDetector(t.checkpoint);
    try {
      const ev = await evaluateModel(model, spec, { data: RACCOON, format: 'voc', split: 'test' });
      const m = metricsJson(ev.metrics);
      return {
        data: '../shared/data/raccoon', preset: 'shapes', backbone: spec.backbone, train_split: 'train', train_images: t.set.records.length,
        iterations: t.step, batch: t.config.train.batchSize, min_size: spec.input.minSize, max_size: spec.input.maxSize,
        train_s: round(trainS, 1), train_images_per_s: round(t.imagesPerSecond, 3),
        test_split: 'test', test_images: ev.set.records.length, test_s: round(ev.seconds, 1), test_images_per_s: round(ev.imagesPerSecond, 3),
        voc_map07: round(m.voc.mAP07, 4), voc_map_area: round(m.voc.mAPArea, 4),
        coco_map50: round(m.coco.stats[1], 4), coco_map: round(m.coco.stats[0], 4), ...memory(),
      };
    } finally {
      model.dispose();
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Runs one case in this process (the child side); spec `train:<backbone>:<batch>:<HxW>`, `infer:<HxW>` or `map`. */
async function runCase(spec: string): Promise<Record<string, unknown>> {
  const info = await initBackend();
  const [name, a, b, c] = spec.split(':');
  const r = name === 'train' ? await benchTrain(a, Number(b), c) : name === 'infer' ? await benchInfer(a) : await benchMap();
  return { ...r, backend: info.chosen, threads: probeResult(info).threads };
}

/** The PyTorch peer (tools/parity/torch_bench.py) of a child spec; none for the raccoon run. */
function torchSpec(spec: string): string | undefined {
  const [name, a, b, c] = spec.split(':');
  return name === 'train' ? `det_train:${a}:${b}:${c}` : name === 'infer' ? `det_infer:resnet50:${a}` : undefined;
}

const spec = childSpec();
if (spec === PROBE_SPEC) {
  await serveChild(spec, async () => probeResult(await initBackend()));
} else if (spec) {
  // an aborted case still reports how large the wasm heap had grown
  await serveChild(spec, runCase, memory);
} else {
  const script = fileURLToPath(import.meta.url);
  const { backends, skipped } = benchBackends(script);
  const peers = new TorchPeers({ steps });
  const result: Record<string, unknown> = {
    node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg_start: os.loadavg().map((v) => round(v, 2)),
    backends: Object.fromEntries(backends.map((b) => [b.name, { threads: b.threads }])), ...(Object.keys(skipped).length ? { backends_skipped: skipped } : {}),
    steps, started: new Date().toISOString(),
  };
  const t0 = performance.now();

  /** Runs one case in a child process on backend `b` (with its PyTorch peer asked for); an error result names the case. */
  const child = (b: BenchBackend, key: string, childSpecText: string): Record<string, unknown> => {
    const c0 = performance.now();
    const r = runChild(script, childSpecText, { env: { RESDET_BACKEND: b.name }, timeoutMs: timeoutS > 0 ? timeoutS * 1000 : undefined });
    const out = { ...(r.error ? { case: childSpecText } : {}), ...r, wall_s: round((performance.now() - c0) / 1000, 1) };
    const peer = torchSpec(childSpecText);
    if (peer) peers.add(out, peer, TorchPeers.threads(b), key, b.name);
    return out;
  };
  /** Training at each batch in order on `input`, stopping at the first that fails (a larger one would too). */
  const trainBatches = (b: BenchBackend, key: string, backbone: string, list: number[], input = INPUT): Record<string, unknown>[] => {
    const tries: Record<string, unknown>[] = [];
    for (const batch of list) {
      const r = child(b, key, `train:${backbone}:${batch}:${input}`);
      tries.push(r.error ? Object.assign(r, { batch, input }) : r);
      if (r.error) break;
    }
    return tries;
  };
  /** ResNet-50 batch 1 on each smaller input in order until one runs: the largest that fits. */
  const trainFit = (b: BenchBackend): Record<string, unknown>[] => {
    const tries: Record<string, unknown>[] = [];
    for (const input of fitInputs) {
      const [r] = trainBatches(b, 'resnet50_train_fit', 'resnet50', [1], input);
      tries.push(r);
      if (!r.error) break;
    }
    return tries;
  };
  /** result[key][backend] = r */
  const put = (key: string, b: BenchBackend, r: unknown): void => {
    ((result[key] ??= {}) as Record<string, unknown>)[b.name] = r;
  };
  for (const b of backends) {
    if (cases.includes('train')) for (const bb of backbones) put(`${bb}_train`, b, trainBatches(b, `${bb}_train`, bb, batches));
    const r50 = (result.resnet50_train as Record<string, Record<string, unknown>[]> | undefined)?.[b.name];
    if (cases.includes('fit') && r50?.[0]?.error !== undefined) put('resnet50_train_fit', b, trainFit(b));
    if (cases.includes('infer')) put('resnet50_infer', b, child(b, 'resnet50_infer', `infer:${INPUT}`));
    if (cases.includes('vgg16')) put('vgg16_train', b, trainBatches(b, 'vgg16_train', 'vgg16', [1]));
    if (cases.includes('map')) {
      put('raccoon_map', b, fs.existsSync(RACCOON) ? child(b, 'raccoon_map', 'map') : { skipped: `${RACCOON} is absent (the real data of ../shared/data)` });
    }
  }
  Object.assign(result, peers.run());
  result.loadavg_end = os.loadavg().map((v) => round(v, 2));
  result.total_s = round((performance.now() - t0) / 1000, 1);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
