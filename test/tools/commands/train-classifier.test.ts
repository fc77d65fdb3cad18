import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { runCli } from '../../helpers/cli.ts';
import { checkpointTensorBytes as tensorBytes, writeTinyCifar } from '../../helpers/tiny-cifar.ts';
import { UserError } from '../../../src/errors.ts';
import { initBackend } from '../../../src/backend/index.ts';
import { CIFAR10 } from '../../../tools/recipes/cifar10.ts';
import { recipeByName } from '../../../tools/commands/train-classifier.ts';
import { trainClassifier, type ClassifierRunOptions } from '../../../tools/train/classifier.ts';

describe('resdet train-classifier', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-tc-'));
    writeTinyCifar(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const args = (out: string, iterations: number): string[] => ['train-classifier', '--model', 'resnet20', '--data', dir, '--iterations', String(iterations), '--batch-size', '4', '--eval-every', '2', '--eval-images', '4', '--checkpoint-every', '1', '--quiet', '--out', path.join(dir, out)];

  const options = (out: string, iterations: number, extra: Partial<ClassifierRunOptions> = {}): ClassifierRunOptions => ({
    model: 'resnet20',
    data: dir,
    recipe: { ...CIFAR10, batchSize: 4, evalEvery: 2, evalImages: 4, checkpointEvery: 1 },
    iterations,
    out: path.join(dir, out),
    seed: 0,
    quiet: true,
    ...extra,
  });

  it('trains, prints `checkpoint: PATH` last; a run resumed in-process equals it bit for bit', async () => {
    // one real CLI run (process start-up dominates; the rest runs in-process)
    const straight = runCli(args('straight', 3));
    assert.equal(straight.status, 0, straight.stderr);
    const lines = straight.stdout.trim().split('\n');
    assert.equal(lines.at(-1), `checkpoint: ${path.join(dir, 'straight', 'checkpoint.safetensors')}`);
    assert.match(lines[0], /^step: 3, val_error \d+\.\d\d%, test_error \d+\.\d\d%$/);
    const rows = fs.readFileSync(path.join(dir, 'straight', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.filter((r) => r.kind === 'eval').map((r) => r.step), [2, 3]);
    assert.ok(fs.statSync(path.join(dir, 'straight', 'curves.png')).size > 1000);

    await initBackend();
    const before = tf.memory().numTensors;
    await trainClassifier(options('resumed', 2));
    await assert.rejects(trainClassifier(options('resumed', 2)), /checkpoint\.safetensors: a checkpoint is already there; pass --resume/);
    const r = await trainClassifier(options('resumed', 3, { resume: true }));
    assert.equal(r.step, 3);
    assert.ok(tensorBytes(path.join(dir, 'resumed', 'checkpoint.safetensors')).equals(tensorBytes(path.join(dir, 'straight', 'checkpoint.safetensors'))));
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects a bad preset, a missing checkpoint for --resume and a wrong --model on resume', async () => {
    assert.throws(() => recipeByName('mnist'), (e: Error) => e instanceof UserError && e.message === '--preset: expected one of cifar10, imagenet, got "mnist"');
    await assert.rejects(trainClassifier(options('none', 1, { resume: true })), /none\/checkpoint\.safetensors: --resume: expected a checkpoint from an earlier run, got none/);
    await assert.rejects(trainClassifier(options('straight', 4, { resume: true, model: 'plain20' })), /config\.model: the run being resumed has "resnet20", --model gives "plain20"; leave --model out/);
  });
});
