/**
 * `npm run bench:profile`: where a training step's time goes, per kernel, on one backend: the
 * before/after view of the native backend (docs/native-backend.md). Runs resdet's own models
 * through the same Trainer and tasks as the CLI:
 * - `r50`: ResNet-50 classification training step, batch 8 at 224x224 (SGD momentum, wd);
 * - `r20`: CIFAR ResNet-20 training step, batch 128 at 32x32;
 * - `det`: Faster R-CNN ResNet-50 (VOC preset: C4, RoIPool 14x14, conv5 head, 128 RoIs) training
 *   step on one 600x1000 noise image with 3 boxes (BENCH_DETECT_INPUT to change the size).
 * Every kernel registered for the backend is wrapped with a wall-clock timer (nested kernel calls
 * count to their caller); the step's wall time minus the kernels' is JS work outside kernels
 * (anchor matching, NMS, sampling, tape bookkeeping). One warm-up step, then the median of
 * BENCH_STEPS (default 2) steps. Prints one JSON object.
 *
 *   RESDET_BACKEND=native BENCH_CASES=r50,det npm run bench:profile
 *   RESDET_BACKEND=wasm BENCH_CASES=r50 npm run bench:profile     # the "before"
 */
import { createBackbone } from '../../backbones/index.ts';
import type { DetectionBatch } from '../../datasets/detection/index.ts';
import { createDetector } from '../../detectors/index.ts';
import { PRESETS } from '../../detectors/presets/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { classificationTask } from '../../src/train/classification.ts';
import { constantLr } from '../../src/train/schedule.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { detectionTask } from '../../tasks/detection/train.ts';
import { instrumentKernels, takeKernelCpu } from './kernel-cpu.ts';
import { noiseBatch, randomBatch, zeroInitResiduals } from './workloads.ts';

const steps = Number(process.env.BENCH_STEPS ?? 2);
const cases = (process.env.BENCH_CASES ?? 'r20,r50,det').split(',');
const [detH, detW] = (process.env.BENCH_DETECT_INPUT ?? '600x1000').split('x').map(Number);

/** Runs `step` once to warm up, then `steps` times; the profile of the median step. */
function profile(step: () => void): Record<string, unknown> {
  step();
  const runs: Array<{ wall: number; kernels: Map<string, { ms: number; calls: number }> }> = [];
  takeKernelCpu();
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    runs.push({ wall: performance.now() - t0, kernels: takeKernelCpu() });
  }
  runs.sort((a, b) => a.wall - b.wall);
  const median = runs[Math.floor(runs.length / 2)];
  const kernelMs = [...median.kernels.values()].reduce((a, e) => a + e.ms, 0);
  const rows = [...median.kernels].sort((a, b) => b[1].ms - a[1].ms);
  const share = (ms: number) => Math.round((1000 * ms) / median.wall) / 10;
  return {
    step_ms: Math.round(median.wall),
    kernel_ms: Math.round(kernelMs),
    outside_kernels_pct: share(median.wall - kernelMs),
    kernels: Object.fromEntries(rows.filter(([, e]) => share(e.ms) >= 0.5).map(([k, e]) => [k, { ms: Math.round(e.ms), pct: share(e.ms), calls: e.calls }])),
  };
}

function classification(model: string, batch: number, side: number, classes: number): Record<string, unknown> {
  const net = createBackbone(model, { numClasses: classes, seed: 1 });
  const b = randomBatch(batch, side, classes, 2);
  const trainer = new Trainer({ model: net, task: classificationTask(net), data: { batch: async () => b }, schedule: constantLr(0.01), iterations: Infinity });
  const out = { model, batch, input: `${side}x${side}`, ...profile(() => trainer.trainStep(b)) };
  trainer.dispose();
  net.dispose();
  return out;
}

function detection(): Record<string, unknown> {
  const voc = PRESETS.voc;
  const model = createDetector('faster-rcnn-resnet50', { ...voc.detector, seed: 0 });
  zeroInitResiduals(model); // as bench:detect and its PyTorch peer: the recipe's full work per step
  const data = noiseBatch(1, detH, detW);
  const trainer = new Trainer<DetectionBatch>({
    model, task: detectionTask(model), data: { batch: async () => data }, schedule: constantLr(voc.solver.lr),
    sgd: { momentum: voc.solver.momentum, weightDecay: voc.solver.weightDecay }, iterations: Infinity,
  });
  return { model: 'faster-rcnn-resnet50 (voc preset)', batch: 1, input: `${detH}x${detW}`, ...profile(() => trainer.trainStep(data)) };
}

const info = await initBackend();
instrumentKernels(info.chosen, () => performance.now());
const result: Record<string, unknown> = { backend: info.chosen, threads: info.threads, steps };
if (cases.includes('r20')) result.r20 = classification('resnet20', 128, 32, 10);
if (cases.includes('r50')) result.r50 = classification('resnet50', 8, 224, 1000);
if (cases.includes('det')) result.det = detection();
process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
