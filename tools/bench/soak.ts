/**
 * `npm run bench:soak`: memory stays flat in long runs (issue 10, "Under load"). Prints one JSON
 * object with `tf.memory().numTensors` and the process RSS after a warm-up and at the end of:
 * - `train`: BENCH_SOAK_STEPS (default 1000) training steps of CIFAR ResNet-20 (batch 16, random
 *   32x32 data, SGD with momentum) through the Trainer;
 * - `eval`: a top-1 evaluation of the whole CIFAR-10 test set (10,000 JPEGs decoded by sharp,
 *   ../shared/data/cifar10/test) by evaluateClassifier, ResNet-20 with the pretrained weights
 *   (../shared/data/cifar10-resnet); skipped with a note when the data is absent.
 *
 *   npm run bench:soak                 # on the backend the ladder picks
 *   RESDET_BACKEND=wasm npm run bench:soak
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createBackbone } from '../../backbones/index.ts';
import { readImageFolder } from '../../datasets/classification/image-folder.ts';
import { initBackend } from '../../src/backend/index.ts';
import { evaluateClassifier } from '../../tasks/classification/evaluate.ts';
import { loadClassifier } from '../../tasks/classification/predict.ts';
import { classificationTask } from '../../src/train/classification.ts';
import { constantLr } from '../../src/train/schedule.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { randomBatch } from './workloads.ts';

const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data');

/** tf tensors and RSS (MB) now. */
export function memorySample(): { tensors: number; rss_mb: number } {
  return { tensors: tf.memory().numTensors, rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20) };
}

/**
 * Trains ResNet-20 for `steps` steps on random batches of `batch`; samples memory after `warmup`
 * steps and at the end. The batches are drawn afresh each step (new input tensors every step, as
 * a real data loader gives).
 */
export function soakTrain(steps: number, batch = 16, warmup = Math.min(20, steps)): Record<string, unknown> {
  const net = createBackbone('resnet20', { numClasses: 10, seed: 1 });
  const draw = (step: number) => randomBatch(batch, 32, 10, 3 + step);
  const trainer = new Trainer({ model: net, task: classificationTask(net), data: { batch: async () => draw(0) }, schedule: constantLr(0.01), sgd: { momentum: 0.9, weightDecay: 1e-4 }, iterations: Infinity });
  const t0 = performance.now();
  let start = memorySample();
  for (let i = 0; i < steps; i++) {
    trainer.trainStep(draw(i));
    if (i + 1 === warmup) start = memorySample();
  }
  const end = memorySample();
  trainer.dispose();
  net.dispose();
  return { steps, batch, warmup, after_warmup: start, end, seconds: Math.round((performance.now() - t0) / 100) / 10 };
}

/** evaluateClassifier over the whole CIFAR-10 test set, memory before and after. */
export async function soakEval(limit?: number): Promise<Record<string, unknown>> {
  const test = path.join(SHARED, 'cifar10/test');
  const weights = path.join(SHARED, 'cifar10-resnet/resnet20-12fca82f.th');
  if (!fs.existsSync(test) || !fs.existsSync(weights)) return { skipped: `${test} or ${weights} is absent` };
  const c = await loadClassifier('resnet20', { weights });
  const set = readImageFolder(test);
  await evaluateClassifier(c, set, { limit: 200 }); // warm-up: kernels, pools, sharp
  const start = memorySample();
  const t0 = performance.now();
  const r = await evaluateClassifier(c, set, limit ? { limit } : {});
  const end = memorySample();
  c.model.dispose();
  return { images: r.images, top1: r.top1, after_warmup: start, end, seconds: Math.round((performance.now() - t0) / 100) / 10 };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const info = await initBackend();
  const steps = Number(process.env.BENCH_SOAK_STEPS ?? 1000);
  const result = { backend: info.chosen, threads: info.threads, train: soakTrain(steps), eval: await soakEval() };
  process.stdout.write(`${JSON.stringify(result, null, 1)}\n`);
}
