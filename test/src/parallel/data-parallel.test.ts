import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataParallel, DataParallelError } from '../../../src/parallel/data-parallel.ts';
import { splitClassificationBatch } from '../../../tasks/classification/parallel.ts';
import { replicaRngState } from '../../../src/parallel/protocol.ts';
import { Rng } from '../../../src/random.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import type { ClassificationBatch } from '../../../src/train/classification.ts';
import { constantLr } from '../../../src/train/schedule.ts';
import { Trainer, taskGradients } from '../../../src/train/trainer.ts';
import { checkpointTensorBytes } from '../../helpers/tiny-cifar.ts';
import { useCpuBackend } from '../train/cpu-backend.ts';
import { EXIT_LABEL, THROW_LABEL, TinyNet, tinyTask, type TinyArgs } from './tiny-replica.ts';

const REPLICA_MODULE = new URL('./tiny-replica.ts', import.meta.url).href;

/** A seeded batch of n 6x6 RGB images with labels 0..2 (or `labels` when given). */
function batchOf(n: number, seed: number, labels?: number[]): ClassificationBatch {
  const rng = new Rng(seed);
  return {
    images: Float32Array.from({ length: n * 6 * 6 * 3 }, () => rng.normal()),
    labels: Int32Array.from(labels ?? Array.from({ length: n }, () => rng.int(0, 3))),
    shape: [n, 6, 6, 3],
  };
}

function start(model: TinyNet, args: TinyArgs, rng?: Rng): Promise<DataParallel<ClassificationBatch>> {
  return DataParallel.start({ model, task: tinyTask(model, rng), replica: { module: REPLICA_MODULE, args }, split: splitClassificationBatch, replicas: 2, ...(rng ? { rngs: { noise: rng } } : {}) });
}

function trainerOf(model: TinyNet, dp?: DataParallel<ClassificationBatch>, extra: Partial<ConstructorParameters<typeof Trainer<ClassificationBatch>>[0]> = {}, rng?: Rng): Trainer<ClassificationBatch> {
  return new Trainer<ClassificationBatch>({
    model,
    task: tinyTask(model, rng),
    ...(rng ? { rngs: { noise: rng } } : {}),
    data: { batch: async (s) => batchOf(8, 100 + s) },
    schedule: constantLr(0.1),
    iterations: Infinity,
    ...(dp ? { gradients: (b: ClassificationBatch, s: number) => dp.gradients(b, s) } : {}),
    ...extra,
  });
}

/** Largest |a - b| over the state dicts of two models. */
function maxStateDiff(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor>): number {
  assert.deepEqual([...b.keys()], [...a.keys()]);
  return Math.max(...[...a].map(([n, t]) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, b.get(n)!))).dataSync()[0])));
}

function arraysOf(state: Map<string, tf.Tensor>): Map<string, Float32Array> {
  return new Map([...state].map(([n, t]) => [n, Float32Array.from(t.dataSync() as Float32Array)]));
}

describe('parallel/data-parallel', function () {
  // worker start-up (tsx + tfjs in a fresh thread) takes a few seconds on a busy machine
  this.timeout(60_000);
  useCpuBackend();

  it('splits a batch into near-equal contiguous shards that own their arrays', () => {
    // 7 images over 2 replicas: 4 + 3 (the first shard takes the remainder)
    const b = batchOf(7, 1);
    const [s0, s1] = splitClassificationBatch(b, 2);
    assert.deepEqual([s0.shape, s1.shape], [[4, 6, 6, 3], [3, 6, 6, 3]]);
    assert.deepEqual([...s1.labels], [...b.labels.slice(4)]);
    assert.deepEqual(s1.images, b.images.slice(4 * 108));
    assert.equal(s1.images.byteOffset, 0);
    assert.equal(s1.images.buffer.byteLength, 3 * 108 * 4);
    // more replicas than images: one shard per image
    assert.equal(splitClassificationBatch(batchOf(1, 1), 2).length, 1);
  });

  describe('without BN', () => {
    let dp: DataParallel<ClassificationBatch>;
    const args = { bn: false, seed: 3 };
    const model = (): TinyNet => new TinyNet(args);
    let main: TinyNet;
    before(async () => {
      main = model();
      dp = await start(main, args);
    });
    after(async () => {
      await dp.close();
      main.dispose();
    });

    it('one 2-replica step equals a single-thread step on the full batch (weights within 1e-5)', async () => {
      const single = model();
      const t1 = trainerOf(single);
      const t2 = trainerOf(main, dp);
      const b = batchOf(8, 7);
      const r1 = t1.trainStep(b);
      const r2 = await t2.trainStepAsync(b);
      // the mean of two 4-image mean losses is the 8-image mean loss
      assert.ok(Math.abs(r1.loss - r2.loss) < 1e-6, `${r1.loss} vs ${r2.loss}`);
      assert.equal(r2.examples, 8);
      assert.ok(Math.abs(r1.metrics.error - r2.metrics.error) < 1e-7);
      const d = maxStateDiff(single.stateDict(), main.stateDict());
      assert.ok(d < 1e-5, `max weight difference ${d}`);
      // and the update moved the weights (the test compares something)
      const init = model();
      assert.ok(maxStateDiff(init.stateDict(), main.stateDict()) > 1e-3);
      for (const m of [single, init]) m.dispose();
      t1.dispose();
      t2.dispose();
    });

    it('forward splits the batch and matches the single-thread output, with the weights of the last step', async () => {
      const x = tf.tensor(batchOf(5, 9).images, [5, 6, 6, 3]);
      const before = tf.memory().numTensors;
      // one image: only this thread computes, so the worker still holds the weights from before
      // the last step and must reload them for the 5-image batch (3 + 2)
      const one = tf.tidy(() => tf.slice(x, 0, 1));
      tf.dispose([await dp.forward(one), one]);
      const y = await dp.forward(x);
      assert.equal(tf.memory().numTensors, before + 1);
      main.eval();
      const want = main.forward(x);
      main.train();
      assert.deepEqual(y.shape, [5, 3]);
      assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(y, want))).dataSync()[0]) < 1e-6);
      tf.dispose([x, y, want]);
    });

    it('refuses gradients when the trainable set changed after start (the layouts would not line up)', async () => {
      const before = tf.memory().numTensors;
      main.conv.freeze();
      await assert.rejects(dp.gradients(batchOf(4, 2), 0), /the set of trainable parameters changed after start\(\)/);
      for (const [, v] of main.conv.namedParameters()) v.trainable = true;
      assert.equal(tf.memory().numTensors, before);
    });

    // last in this suite: the failure terminates this suite's workers
    it('an exception in a worker rejects with its message and terminates the workers', async () => {
      const before = tf.memory().numTensors;
      // the marker label sits in the second half: only the worker's shard has it
      const b = batchOf(4, 1, [0, 1, 2, THROW_LABEL]);
      await assert.rejects(dp.gradients(b, 0), (e: Error) => e instanceof DataParallelError && e.message === `data-parallel worker 1: bad label ${THROW_LABEL} in the shard`);
      assert.equal(tf.memory().numTensors, before);
      assert.equal(dp.liveWorkers(), 0);
      await assert.rejects(dp.gradients(batchOf(4, 1), 0), /bad label/);
    });
  });

  describe('with train-mode BN and a task drawing random noise', () => {
    let dp: DataParallel<ClassificationBatch>;
    const args = { bn: true, seed: 5, noise: true };
    const rng = new Rng(77);
    let main: TinyNet;
    let dir = '';
    before(async () => {
      main = new TinyNet(args);
      dp = await start(main, args, rng);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-dp-'));
    });
    after(async () => {
      await dp.close();
      main.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('averages the shard gradients, weighted by shard size (7 images: 4/7 and 3/7); the worker draws from replicaRngState', async () => {
      const b = batchOf(7, 11);
      const s = rng.state;
      const got = await dp.gradients(b, 0);
      const [s0, s1] = splitClassificationBatch(b, 2);
      rng.state = s;
      const g0 = taskGradients(main, tinyTask(main, rng), s0, 0);
      const g1 = taskGradients(main, tinyTask(main, new Rng(replicaRngState(s, 1))), s1, 0);
      assert.ok(Math.abs(got.loss - (4 * g0.loss + 3 * g1.loss) / 7) < 1e-6);
      const names = Object.keys(g0.grads);
      assert.deepEqual(Object.keys(got.grads).sort(), [...names].sort());
      assert.equal(names.length, 5); // conv.weight, bn.weight, bn.bias, fc.weight, fc.bias
      for (const n of names) {
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(got.grads[n], tf.add(tf.mul(g0.grads[n], 4 / 7), tf.mul(g1.grads[n], 3 / 7))))).dataSync()[0]);
        assert.ok(d < 1e-5, `${n}: ${d}`);
      }
      tf.dispose([got.grads, g0.grads, g1.grads]);
    });

    it('keeps the replicas identical over steps, with flat tensor memory in this thread', async () => {
      const t = trainerOf(main, dp, {}, rng);
      await t.trainStepAsync(batchOf(8, 1)); // creates the momentum buffers
      const before = tf.memory().numTensors;
      await t.trainStepAsync(batchOf(8, 2));
      const params = new Set(main.namedParameters().map(([n]) => n));
      const startOfLast = arraysOf(main.stateDict());
      await t.trainStepAsync(batchOf(8, 3));
      assert.equal(tf.memory().numTensors, before);
      // the worker computed the last step from exactly the main thread's weights
      const [w] = await dp.replicaStates();
      for (const [n, v] of arraysOf(w)) if (params.has(n)) assert.deepEqual(v, startOfLast.get(n), n);
      tf.dispose([...w.values()]);
      // a forward re-broadcasts the updated state: then the whole state (BN buffers too) is equal
      const x = tf.tensor(batchOf(2, 4).images, [2, 6, 6, 3]);
      tf.dispose([await dp.forward(x), x]);
      const [w2] = await dp.replicaStates();
      assert.deepEqual(arraysOf(w2), arraysOf(main.stateDict()));
      tf.dispose([...w2.values()]);
      assert.equal(tf.memory().numTensors, before);
      t.dispose();
    });

    it('resumes exactly with 2 replicas: 4 steps straight == 2 steps, checkpoint, 2 more (bitwise)', async () => {
      const init = new Map([...main.stateDict()].map(([n, v]) => [n, tf.clone(v)]));
      const rng0 = rng.state;
      const ckptOf = (name: string, iterations: number) => ({ iterations, checkpoint: { path: path.join(dir, name), every: 2, config: null } });
      const straight = trainerOf(main, dp, ckptOf('straight.safetensors', 4), rng);
      await straight.run();
      straight.dispose();

      main.loadStateDict(init);
      rng.state = rng0;
      const first = trainerOf(main, dp, ckptOf('resumed.safetensors', 2), rng);
      await first.run();
      first.dispose();
      // scramble the weights: everything must come from the checkpoint
      const zeros = new Map([...init].map(([n, v]) => [n, tf.zerosLike(v)]));
      main.loadStateDict(zeros);
      tf.dispose([...zeros.values()]);
      rng.state = 12345; // scrambled too: the checkpoint restores it
      const resumed = trainerOf(main, dp, ckptOf('resumed.safetensors', 4), rng);
      const ckpt = loadCheckpoint(path.join(dir, 'resumed.safetensors'));
      resumed.restore(ckpt);
      disposeCheckpoint(ckpt);
      await resumed.run();
      resumed.dispose();
      assert.ok(checkpointTensorBytes(path.join(dir, 'resumed.safetensors')).equals(checkpointTensorBytes(path.join(dir, 'straight.safetensors'))));
      tf.dispose([...init.values()]);
    });

    // last in this suite: the crash terminates this suite's workers
    it('a worker that exits mid-step rejects with its exit code', async () => {
      await assert.rejects(dp.gradients(batchOf(4, 1, [0, 1, 2, EXIT_LABEL]), 0), /data-parallel worker 1 exited unexpectedly \(code 3\)/);
      assert.equal(dp.liveWorkers(), 0);
    });
  });

  it('rejects start when a replica does not match the main model (its workers stopped: mocha exits)', async () => {
    const main = new TinyNet({ bn: false, seed: 1 });
    // the workers build a model with BN: its state-dict differs at the second entry
    await assert.rejects(start(main, { bn: true, seed: 1 }), /data-parallel worker 1: data parallel: the worker's state-dict entries differ from the main thread's at entry 1: expected conv\.bias\[4\], got bn\.weight\[4\]/);
    main.dispose();
  });
});
