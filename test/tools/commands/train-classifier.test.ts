import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { REPO_ROOT, runCli } from '../../helpers/cli.ts';
import { checkpointTensorBytes as tensorBytes, writeTinyCifar } from '../../helpers/tiny-cifar.ts';
import { UserError } from '../../../src/errors.ts';
import { LOCK_FILE } from '../../../src/io/lock.ts';
import { initBackend } from '../../../src/backend/index.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import { CIFAR10 } from '../../../tasks/classification/recipes/cifar10.ts';
import { recipeByName, trainClassifier, type ClassifierRunOptions } from '../../../tasks/classification/train.ts';

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
    await assert.rejects(trainClassifier(options('resumed', 2)), /checkpoint\.safetensors: a checkpoint is already there; pass resume/);
    const r = await trainClassifier(options('resumed', 3, { resume: true }));
    assert.equal(r.step, 3);
    assert.ok(tensorBytes(path.join(dir, 'resumed', 'checkpoint.safetensors')).equals(tensorBytes(path.join(dir, 'straight', 'checkpoint.safetensors'))));
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects a bad preset, a missing checkpoint for --resume and a wrong --model on resume', async () => {
    assert.throws(() => recipeByName('mnist'), (e: Error) => e instanceof UserError && e.message === 'preset: expected one of cifar10, imagenet, got "mnist"');
    await assert.rejects(trainClassifier(options('none', 1, { resume: true })), /none\/checkpoint\.safetensors: resume: expected a checkpoint from an earlier run, got none/);
    await assert.rejects(trainClassifier(options('straight', 4, { resume: true, model: 'plain20' })), /config\.model: the run being resumed has "resnet20", model gives "plain20"; leave model out/);
  });

  it('--resume in the short form continues the run with the checkpoint\'s settings, bit for bit', async () => {
    // the first run's flags differ from the preset's defaults (batch 128, 64,000 iterations)
    await trainClassifier(options('short', 2));
    const r = runCli(['train-classifier', '--resume', '--out', path.join(dir, 'short'), '--iterations', '3', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^step: 3, /);
    assert.ok(tensorBytes(path.join(dir, 'short', 'checkpoint.safetensors')).equals(tensorBytes(path.join(dir, 'straight', 'checkpoint.safetensors'))));
  });

  it('refuses a contradicting flag on --resume, a held folder and a new run without --data, changing nothing', async () => {
    const out = path.join(dir, 'straight');
    const ckpt = path.join(out, 'checkpoint.safetensors');
    const files = () => new Map(fs.readdirSync(out).map((n) => [n, fs.readFileSync(path.join(out, n))]));
    const before = files();
    await assert.rejects(trainClassifier({ out, resume: true, overrides: { batchSize: 8 }, quiet: true }), (e: Error) => e.name === 'UserError'
      && e.message === `${ckpt}: config.recipe.batchSize: the run being resumed has 4, overrides.batchSize gives 8; leave overrides.batchSize out to continue the run (on resume only iterations, minutes, workers, data, overrides.evalEvery, overrides.evalImages and overrides.checkpointEvery may change)`);
    await assert.rejects(trainClassifier({ out, resume: true, seed: 1, quiet: true }), /config\.seed: the run being resumed has 0, seed gives 1;/);
    const lock = path.join(out, LOCK_FILE);
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), started: 'T', command: 'resdet train-classifier' }));
    try {
      await assert.rejects(trainClassifier({ out, resume: true, quiet: true }), (e: Error) => e.name === 'UserError'
        && e.message === `${lock}: out ${out} is in use by another run (pid ${process.pid} on ${os.hostname()} since T: resdet train-classifier); wait for it to finish or choose another out`);
    } finally {
      fs.rmSync(lock);
    }
    // --data may name a moved folder, not other data: 36 training images instead of 40
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-tc-other-'));
    try {
      writeTinyCifar(other);
      fs.writeFileSync(path.join(other, 'data_batch_5.bin'), fs.readFileSync(path.join(other, 'data_batch_5.bin')).subarray(0, 4 * 3073));
      await assert.rejects(trainClassifier({ out, resume: true, data: other, quiet: true }), (e: Error) => e.name === 'UserError'
        && e.message === `${other}: data: expected the data the run being resumed trained on (40 training images of 10 classes), got 36 images of 10 classes`);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    assert.deepEqual(files(), before);
    const fresh = path.join(dir, 'no-data');
    await assert.rejects(trainClassifier({ model: 'resnet20', out: fresh, quiet: true }), /^UserError: data: required for a new run \(resume takes it from the checkpoint\)$/);
    assert.ok(!fs.existsSync(fresh));
  });

  it('a second run on the --out of a running CLI run is refused naming it; after kill -9 the folder is not stuck', async () => {
    const out = path.join(dir, 'contested');
    const lock = path.join(out, LOCK_FILE);
    const first = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/resdet.js'), 'train-classifier', '--model', 'resnet20', '--data', dir, '--iterations', '100000',
      '--batch-size', '4', '--eval-every', '100000', '--checkpoint-every', '1', '--quiet', '--out', out], { cwd: REPO_ROOT, stdio: 'ignore' });
    const exited = new Promise((resolve) => first.on('exit', resolve));
    await initBackend();
    try {
      // the first run holds the folder once its checkpoint exists
      for (let t = 0; !fs.existsSync(path.join(out, 'checkpoint.safetensors')); t++) {
        assert.ok(t < 600 && first.exitCode === null, 'the first run did not start training');
        await new Promise((r) => setTimeout(r, 100));
      }
      // the library entry the CLI calls (a second process start would double the test's time)
      await assert.rejects(trainClassifier(options('contested', 2)), (e: Error) => e.name === 'UserError'
        && new RegExp(`^${lock}: out ${out} is in use by another run \\(pid ${first.pid} on ${os.hostname()} since [^ ]+: .*train-classifier .*\\); wait for it to finish or choose another out$`).test(e.message));
    } finally {
      first.kill('SIGKILL');
      await exited;
    }
    // killed: its lock stays, but no live process holds it
    assert.ok(fs.existsSync(lock));
    const c = loadCheckpoint(path.join(out, 'checkpoint.safetensors'));
    const step = c.step;
    disposeCheckpoint(c);
    const r = await trainClassifier({ out, resume: true, iterations: step + 1, quiet: true });
    assert.equal(r.step, step + 1);
    assert.ok(!fs.existsSync(lock));
    assert.deepEqual(fs.readdirSync(out).filter((n) => n.endsWith('.tmp')), []);
  });
});
