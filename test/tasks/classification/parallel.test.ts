import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { loadCheckpoint, disposeCheckpoint } from '../../../src/train/checkpoint.ts';
import { CIFAR10 } from '../../../tasks/classification/recipes/cifar10.ts';
import { trainClassifier, type ClassifierRunOptions } from '../../../tasks/classification/train.ts';
import { writeTinyCifar } from '../../helpers/tiny-cifar.ts';

describe('parallel: train-classifier --workers 2', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-dp-tc-'));
    writeTinyCifar(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const options = (out: string, iterations: number, extra: Partial<ClassifierRunOptions> = {}): ClassifierRunOptions => ({
    model: 'resnet20',
    data: dir,
    recipe: { ...CIFAR10, batchSize: 4, evalEvery: 3, evalImages: 4, checkpointEvery: 1 },
    iterations,
    out: path.join(dir, out),
    seed: 0,
    quiet: true,
    ...extra,
  });

  // exact resume with 2 replicas is tested on a tiny net in data-parallel.test.ts; this checks
  // the command's bookkeeping with two worker start-ups instead of three
  it('records the worker count; --resume without --workers continues with it', async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    await trainClassifier(options('run', 1, { workers: 2 }));
    const r = await trainClassifier(options('run', 2, { resume: true }));
    assert.equal(r.step, 2);
    const ckpt = loadCheckpoint(path.join(dir, 'run', 'checkpoint.safetensors'));
    assert.equal((ckpt.config as { workers: number }).workers, 2);
    assert.equal(ckpt.step, 2);
    disposeCheckpoint(ckpt);
    assert.equal(tf.memory().numTensors, before);
  });
});
