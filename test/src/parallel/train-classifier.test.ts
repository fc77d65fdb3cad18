import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { loadCheckpoint, disposeCheckpoint } from '../../../src/train/checkpoint.ts';
import { CIFAR10 } from '../../../tools/recipes/cifar10.ts';
import { trainClassifier, type ClassifierRunOptions } from '../../../tools/train/classifier.ts';

/** A tiny CIFAR-10 binary folder: 5 x 8 training images and 8 test images of seeded noise. */
function tinyCifar(dir: string): void {
  let seed = 7;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  const batch = (n: number): Buffer => {
    const b = Buffer.alloc(n * 3073);
    for (let i = 0; i < n; i++) {
      b[i * 3073] = i % 10;
      for (let k = 1; k < 3073; k++) b[i * 3073 + k] = rand();
    }
    return b;
  };
  for (const i of [1, 2, 3, 4, 5]) fs.writeFileSync(path.join(dir, `data_batch_${i}.bin`), batch(8));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), batch(8));
}

/** The tensor bytes of a checkpoint (everything after the JSON header). */
function tensorBytes(file: string): Buffer {
  const buf = fs.readFileSync(file);
  return buf.subarray(8 + Number(buf.readBigUInt64LE(0)));
}

describe('parallel: train-classifier --workers 2', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-dp-tc-'));
    tinyCifar(dir);
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

  it('records the worker count; --resume without --workers continues with it, bit for bit', async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    await trainClassifier(options('straight', 3, { workers: 2 }));
    await trainClassifier(options('resumed', 2, { workers: 2 }));
    const r = await trainClassifier(options('resumed', 3, { resume: true }));
    assert.equal(r.step, 3);
    const ckpt = loadCheckpoint(path.join(dir, 'resumed', 'checkpoint.safetensors'));
    assert.equal((ckpt.config as { workers: number }).workers, 2);
    disposeCheckpoint(ckpt);
    assert.ok(tensorBytes(path.join(dir, 'resumed', 'checkpoint.safetensors')).equals(tensorBytes(path.join(dir, 'straight', 'checkpoint.safetensors'))));
    assert.equal(tf.memory().numTensors, before);
  });
});
