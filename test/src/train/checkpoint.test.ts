import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { disposeCheckpoint, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../../src/train/checkpoint.ts';
import { UserError } from '../../../src/errors.ts';
import { useCpuBackend } from './cpu-backend.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';

/** A checkpoint of `sample(42)` written by the checkpoint code before it used the shared safetensors encoder. */
const V1_FIXTURE = path.join(REPO_ROOT, 'test/fixtures/checkpoint/v1-before-shared-encoder.safetensors');

function sample(step: number): Checkpoint {
  return {
    step,
    config: { model: 'resnet20', seed: 7 },
    rng: { data: 123456789 },
    schedule: { lr: 0.01, best: 0.25, bad: 1 },
    extra: { epoch: 3 },
    model: new Map<string, tf.Tensor>([
      ['conv1.weight', tf.tensor4d([1.5, -2.25, 3, 1e-30], [1, 1, 2, 2])],
      ['bn1.running_mean', tf.tensor1d([0.1, 0.2])],
      ['counter', tf.tensor1d([5], 'int32')],
    ]),
    optimizer: new Map<string, tf.Tensor>([['conv1.weight', tf.tensor4d([0.5, 0.25, -1, 0], [1, 1, 2, 2])]]),
  };
}

describe('train/checkpoint', () => {
  useCpuBackend();
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-ckpt-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips step, config, rng, schedule, extra and every tensor bit for bit', () => {
    const before = tf.memory().numTensors;
    const file = path.join(dir, 'c.safetensors');
    const a = sample(42);
    saveCheckpoint(file, a);
    const b = loadCheckpoint(file);
    assert.equal(b.step, 42);
    assert.deepEqual(b.config, a.config);
    assert.deepEqual(b.rng, a.rng);
    assert.deepEqual(b.schedule, a.schedule);
    assert.deepEqual(b.extra, a.extra);
    assert.deepEqual([...b.model.keys()], [...a.model.keys()]);
    for (const [n, t] of a.model) {
      assert.equal(b.model.get(n)!.dtype, t.dtype);
      assert.deepEqual(b.model.get(n)!.shape, t.shape);
      assert.deepEqual(b.model.get(n)!.dataSync(), t.dataSync());
    }
    assert.deepEqual(b.optimizer.get('conv1.weight')!.dataSync(), a.optimizer.get('conv1.weight')!.dataSync());
    // The file is a valid safetensors file: 8-byte length, JSON header padded to 8, data.
    const buf = fs.readFileSync(file);
    const n = Number(buf.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    assert.deepEqual(header['model.conv1.weight'], { dtype: 'F32', shape: [1, 1, 2, 2], data_offsets: [0, 16] });
    assert.deepEqual(header['optimizer.momentum.conv1.weight'].data_offsets, [28, 44]);
    // 16 + 8 + 4 + 16 bytes of data
    assert.equal(buf.length, 8 + n + 44);
    disposeCheckpoint(a);
    disposeCheckpoint(b);
    assert.equal(tf.memory().numTensors, before);
  });

  it('a write that throws half-way leaves the previous checkpoint intact and no temp file', () => {
    const file = path.join(dir, 'c.safetensors');
    const good = sample(10);
    saveCheckpoint(file, good);
    const bytes = fs.readFileSync(file);
    const bad = sample(20);
    // The optimizer tensor comes last: the header and model data are already written when
    // reading its (disposed) data throws.
    bad.optimizer.get('conv1.weight')!.dispose();
    assert.throws(() => saveCheckpoint(file, bad), /disposed/);
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.deepEqual(fs.readdirSync(dir), ['c.safetensors']);
    // a failure after the temporary file is fully written (fsync fails: a full disk, an I/O error)
    const fsync = fs.fsyncSync;
    fs.fsyncSync = () => {
      throw new Error('EIO: simulated');
    };
    const other = sample(30);
    try {
      assert.throws(() => saveCheckpoint(file, other), /EIO: simulated/);
    } finally {
      fs.fsyncSync = fsync;
      disposeCheckpoint(other);
    }
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.deepEqual(fs.readdirSync(dir), ['c.safetensors']);
    const back = loadCheckpoint(file);
    assert.equal(back.step, 10);
    disposeCheckpoint(back);
    disposeCheckpoint(good);
    for (const t of bad.model.values()) t.dispose();
  });

  it('rejects truncated, foreign and inconsistent files with errors naming the field', () => {
    const file = path.join(dir, 'c.safetensors');
    const a = sample(1);
    saveCheckpoint(file, a);
    disposeCheckpoint(a);
    const buf = fs.readFileSync(file);
    const before = tf.memory().numTensors;
    const write = (b: Buffer): string => {
      const f = path.join(dir, `bad-${Math.random()}.safetensors`);
      fs.writeFileSync(f, b);
      return f;
    };
    const truncated = write(buf.subarray(0, buf.length - 4));
    assert.throws(() => loadCheckpoint(truncated), (e: Error) => e instanceof UserError && /optimizer\.momentum\.conv1\.weight.*data_offsets.*truncated/.test(e.message));
    assert.throws(() => loadCheckpoint(write(Buffer.from('hello'))), /expected a resdet checkpoint/);
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    header['model.conv1.weight'].shape = [1, 1, 2, 3];
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    assert.throws(() => loadCheckpoint(write(Buffer.concat([len, json, buf.subarray(8 + n)]))), /tensors\["model\.conv1\.weight"\]\.data_offsets: expected \[0, 24\] for shape \[1,1,2,3\], got \[0,16\]/);
    header['model.conv1.weight'].shape = [1, 1, 2, 2];
    header.__metadata__.format = 'other';
    const json2 = Buffer.from(JSON.stringify(header));
    len.writeBigUInt64LE(BigInt(json2.length));
    assert.throws(() => loadCheckpoint(write(Buffer.concat([len, json2, buf.subarray(8 + n)]))), /__metadata__\.format: expected "resdet-checkpoint", got "other"/);
    assert.throws(() => loadCheckpoint(path.join(dir, 'missing')), /cannot read checkpoint/);
    // a hostile state: nested 300,000 deep, or not an object
    for (const [state, message] of [['['.repeat(300_000), /__metadata__\.state: JSON nested more than 1000 levels deep/], ['null', /__metadata__\.state: expected a JSON object, got null/]] as const) {
      header.__metadata__.format = 'resdet-checkpoint';
      header.__metadata__.state = state;
      const json3 = Buffer.from(JSON.stringify(header));
      len.writeBigUInt64LE(BigInt(json3.length));
      assert.throws(() => loadCheckpoint(write(Buffer.concat([len, json3, buf.subarray(8 + n)]))), message);
    }
    assert.equal(tf.memory().numTensors, before);
  });
  it('loads a checkpoint written before the shared encoder, and writes the same bytes today', () => {
    const before = tf.memory().numTensors;
    const old = loadCheckpoint(V1_FIXTURE);
    assert.equal(old.step, 42);
    assert.deepEqual(old.config, { model: 'resnet20', seed: 7 });
    assert.deepEqual(old.schedule, { lr: 0.01, best: 0.25, bad: 1 });
    assert.deepEqual([...old.model.get('conv1.weight')!.dataSync()], [1.5, -2.25, 3, Math.fround(1e-30)]);
    assert.equal(old.model.get('counter')!.dtype, 'int32');
    assert.deepEqual([...old.model.get('counter')!.dataSync()], [5]);
    assert.deepEqual([...old.optimizer.get('conv1.weight')!.dataSync()], [0.5, 0.25, -1, 0]);
    const file = path.join(dir, 'c.safetensors');
    const a = sample(42);
    saveCheckpoint(file, a);
    assert.deepEqual(fs.readFileSync(file), fs.readFileSync(V1_FIXTURE));
    disposeCheckpoint(a);
    disposeCheckpoint(old);
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects trailing bytes, gaps, foreign dtypes and foreign tensor names', () => {
    const buf = fs.readFileSync(V1_FIXTURE);
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    const withHeader = (h: object, data: Buffer): string => {
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      const f = path.join(dir, `bad-${Math.random()}.safetensors`);
      fs.writeFileSync(f, Buffer.concat([len, json, data]));
      return f;
    };
    const data = buf.subarray(8 + n);
    const before = tf.memory().numTensors;
    // 44 data bytes (16 + 8 + 4 + 16) plus 4 stray ones
    assert.throws(() => loadCheckpoint(withHeader(header, Buffer.concat([data, Buffer.alloc(4)]))), /bad-[\d.]+\.safetensors: data: expected 44 bytes after the header, got 48/);
    const gap = structuredClone(header);
    gap['model.bn1.running_mean'].data_offsets = [20, 28];
    assert.throws(() => loadCheckpoint(withHeader(gap, data)), /tensors\["model\.bn1\.running_mean"\]\.data_offsets: expected \[16, 24\] for shape \[2\], got \[20,28\]/);
    const f16 = structuredClone(header);
    f16['model.counter'].dtype = 'F16';
    assert.throws(() => loadCheckpoint(withHeader(f16, data)), (e: Error) => e instanceof UserError && /tensors\["model\.counter"\]\.dtype: expected one of F32, I32, got "F16"/.test(e.message));
    const foreign = JSON.parse(JSON.stringify(header).replace('"model.counter"', '"other.counter"'));
    assert.throws(() => loadCheckpoint(withHeader(foreign, data)), /tensors\["other\.counter"\]: expected a name starting with "model\." or "optimizer\.momentum\."/);
    assert.equal(tf.memory().numTensors, before);
  });
});
