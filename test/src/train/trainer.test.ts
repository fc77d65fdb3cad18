import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Layer, Linear, ReLU } from '../../../src/nn/index.ts';
import { Rng } from '../../../src/random.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import { classificationTask, type ClassificationBatch } from '../../../src/train/classification.ts';
import { PlateauLr, stepLr } from '../../../src/train/schedule.ts';
import { Trainer, TrainingDivergedError, type BatchSource, type LogRow, type TrainTask } from '../../../src/train/trainer.ts';
import { useCpuBackend } from './cpu-backend.ts';

/** Linear -> BN -> ReLU -> Linear: has parameters, BN buffers and train/eval behaviour. */
class Mlp extends Layer {
  fc1: Linear;
  bn: BatchNorm2d;
  fc2: Linear;
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.fc1 = this.child('fc1', new Linear(4, 8, rng));
    this.bn = this.child('bn', new BatchNorm2d(8));
    this.fc2 = this.child('fc2', new Linear(8, 3, rng));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(new ReLU().forward(this.bn.forward(this.fc1.forward(x)))));
  }
}

/** Batches as a pure function of (seed, step): exact resume needs nothing else. */
function syntheticData(seed: number): BatchSource<ClassificationBatch> {
  return {
    async batch(step: number): Promise<ClassificationBatch> {
      const rng = new Rng(seed * 1000003 + step);
      const n = 8;
      const images = new Float32Array(n * 4);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        labels[i] = rng.int(0, 3);
        for (let j = 0; j < 4; j++) images[i * 4 + j] = rng.normal() + (j === labels[i] ? 2 : 0);
      }
      return { images, labels, shape: [n, 4] };
    },
  };
}

/** A task that also draws from its own Rng (like a detector's RoI sampling): adds noise. */
function noisyTask(model: Layer, rng: Rng): TrainTask<ClassificationBatch> {
  const base = classificationTask(model);
  return {
    step(batch, step) {
      const images = batch.images.map((v) => v + 0.01 * rng.normal());
      return base.step({ ...batch, images }, step);
    },
  };
}

function makeRun(dir: string, iterations: number, initSeed: number, killAt = Infinity, rows: LogRow[] = []) {
  const model = new Mlp(initSeed);
  const rng = new Rng(99);
  // 'max' on a falling loss: every observation after the first is a plateau, so the rate drops
  // several times and the schedule's state matters for the resume.
  const schedule = new PlateauLr(0.1, { patience: 0, threshold: 0, mode: 'max' });
  const evalData = syntheticData(5);
  const trainer = new Trainer({
    model,
    task: noisyTask(model, rng),
    data: syntheticData(1),
    schedule,
    iterations,
    rngs: { task: rng },
    logEvery: 3,
    checkpoint: { path: path.join(dir, 'ckpt.safetensors'), every: 5, config: { test: true } },
    onStep: (s) => {
      if (s.step === killAt) throw new Error('killed');
    },
    onLog: (row) => rows.push(row),
    evaluation: {
      every: 3,
      monitor: 'loss',
      async run() {
        const b = await evalData.batch(0);
        const loss = tf.tidy(() => {
          const logits = model.forward(tf.tensor(b.images, b.shape)) as tf.Tensor2D;
          return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(b.labels, 'int32'), 3), logits).dataSync()[0];
        });
        return { loss };
      },
    },
  });
  return { model, trainer, schedule };
}

function stateOf(model: Layer, trainer: Trainer<ClassificationBatch>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [n, v] of model.stateDict()) out.set(`model.${n}`, v.dataSync() as Float32Array);
  for (const [n, v] of trainer.optimizer.stateDict()) out.set(`momentum.${n}`, v.dataSync() as Float32Array);
  return out;
}

describe('train/trainer', () => {
  useCpuBackend();
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-trainer-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('resumes exactly: 12 steps straight == killed at 7, resumed from step 5 in fresh objects (bitwise)', async () => {
    const before = tf.memory().numTensors;
    const straightRows: LogRow[] = [];
    const straight = makeRun(fs.mkdtempSync(path.join(dir, 'a')), 12, 3, Infinity, straightRows);
    await straight.trainer.run();
    // the plateau schedule (patience 0) must have dropped at least once for the test to mean something
    assert.ok(straight.schedule.lr() < 0.1);

    const first = makeRun(dir, 12, 3, 7);
    await assert.rejects(first.trainer.run(), /killed/);
    first.trainer.dispose();
    first.model.dispose();

    // a fresh run with a different initialisation: everything must come from the checkpoint
    const resumedRows: LogRow[] = [];
    const resumed = makeRun(dir, 12, 777, Infinity, resumedRows);
    const ckpt = loadCheckpoint(path.join(dir, 'ckpt.safetensors'));
    assert.equal(ckpt.step, 5);
    resumed.trainer.restore(ckpt);
    disposeCheckpoint(ckpt);
    await resumed.trainer.run();
    // The first train row after the resume (step 6) averages steps 4, 5 and 6 as the straight
    // run's does: the checkpoint at 5 carried the sums of steps 4 and 5.
    const trainRow = (rows: LogRow[], step: number) => {
      const { time: _time, images_per_s: _ips, ...rest } = rows.find((r) => r.kind === 'train' && r.step === step)!;
      return rest;
    };
    for (const step of [6, 9, 12]) assert.deepEqual(trainRow(resumedRows, step), trainRow(straightRows, step), `row at step ${step}`);

    assert.equal(resumed.trainer.step, 12);
    assert.equal(resumed.schedule.lr(), straight.schedule.lr());
    const a = stateOf(straight.model, straight.trainer);
    const b = stateOf(resumed.model, resumed.trainer);
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [n, v] of a) assert.deepEqual(b.get(n), v, n);
    for (const r of [straight, resumed]) {
      r.trainer.dispose();
      r.model.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('stops with a clear error on a NaN loss, keeping the last good weights and checkpoint', async () => {
    const model = new Mlp(1);
    const base = classificationTask(model);
    const task: TrainTask<ClassificationBatch> = {
      step(batch, step) {
        const out = base.step(batch, step);
        if (step !== 3) return out;
        return { ...out, loss: tf.mul(out.loss, NaN) as tf.Scalar };
      },
    };
    const file = path.join(dir, 'ckpt.safetensors');
    const trainer = new Trainer({ model, task, data: syntheticData(1), schedule: stepLr(0.1, []), iterations: 10, checkpoint: { path: file, every: 1, config: null } });
    const err = await trainer.run().catch((e: unknown) => e);
    assert.ok(err instanceof TrainingDivergedError);
    assert.match(err.message, /loss is NaN at step 3 \(lr 0\.1\)/);
    assert.equal(trainer.step, 3);
    const ckpt = loadCheckpoint(file);
    assert.equal(ckpt.step, 3);
    const weightsAt3 = ckpt.model.get('fc1.weight')!.dataSync() as Float32Array;
    assert.deepEqual(model.stateDict().get('fc1.weight')!.dataSync(), weightsAt3);
    assert.ok(weightsAt3.every(Number.isFinite));
    disposeCheckpoint(ckpt);
    trainer.dispose();
    model.dispose();
  });

  it('keeps tf.memory().numTensors flat (after 20 steps == after 2) and logs mean metrics', async () => {
    const model = new Mlp(2);
    const rows: LogRow[] = [];
    const counts: number[] = [];
    const trainer = new Trainer({
      model,
      task: classificationTask(model),
      data: syntheticData(4),
      schedule: stepLr(0.05, [10]),
      iterations: 20,
      logEvery: 10,
      onLog: (r) => rows.push(r),
      onStep: (s) => counts.push(s.step === 2 || s.step === 20 ? tf.memory().numTensors : -1),
    });
    await trainer.run();
    const [at2, at20] = counts.filter((c) => c >= 0);
    assert.equal(at20, at2);
    assert.deepEqual(rows.map((r) => [r.kind, r.step, r.lr]), [['train', 10, 0.05], ['train', 20, 0.05 * 0.1]]);
    assert.ok(typeof rows[0].error === 'number' && rows[0].error >= 0 && rows[0].error <= 1);
    assert.ok((rows[1].loss as number) < (rows[0].loss as number), 'loss decreases on separable data');
    trainer.dispose();
    model.dispose();
  });

  it('leaves the model in training mode after evaluating in eval mode', async () => {
    const model = new Mlp(3);
    const modes: boolean[] = [];
    const trainer = new Trainer({
      model,
      task: classificationTask(model),
      data: syntheticData(4),
      schedule: stepLr(0.05, []),
      iterations: 2,
      evaluation: { every: 1, run: async () => (modes.push(model.bn.training), {}) },
    });
    await trainer.run();
    assert.deepEqual(modes, [false, false]);
    assert.equal(model.bn.training, true);
    trainer.dispose();
    model.dispose();
  });
});
