import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { SHARED_DATA } from '../../helpers/cli.ts';
import { requireShared } from '../../helpers/shared.ts';
import { UserError } from '../../../src/errors.ts';
import { openClassificationData, readCifarBinary, readImageFolder, readMnist, holdOut, CIFAR10_CLASSES } from '../../../datasets/classification/index.ts';
import { PixelCache, decodeRecord } from '../../../datasets/classification/decode.ts';

const MNIST = path.join(SHARED_DATA, 'mnist');
const CIFAR = path.join(SHARED_DATA, 'cifar10');

describe('datasets/classification readers', () => {
  let tmp = '';
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-cls-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('MNIST: the real t10k set has 10,000 28x28 images, first labels 7, 2, 1, 0, 4', function () {
    requireShared(this, MNIST);
    const set = readMnist(path.join(MNIST, 't10k-images-idx3-ubyte.gz'), path.join(MNIST, 't10k-labels-idx1-ubyte.gz'));
    assert.equal(set.records.length, 10000);
    assert.deepEqual(set.records.slice(0, 5).map((r) => r.label), [7, 2, 1, 0, 4]);
    const im = set.records[0].image;
    assert.ok(im.kind === 'pixels' && im.width === 28 && im.height === 28 && im.channels === 1);
    // the first digit (a 7) has ink in the middle and blank corners
    assert.equal(im.pixels[0], 0);
    assert.ok(im.pixels.reduce((a, b) => a + b, 0) > 10000);
    // the same data uncompressed reads the same, and openClassificationData finds it
    fs.writeFileSync(path.join(tmp, 't10k-images-idx3-ubyte'), zlib.gunzipSync(fs.readFileSync(path.join(MNIST, 't10k-images-idx3-ubyte.gz'))));
    fs.copyFileSync(path.join(MNIST, 't10k-labels-idx1-ubyte.gz'), path.join(tmp, 't10k-labels-idx1-ubyte.gz'));
    const data = openClassificationData(tmp);
    assert.equal(data.layout, 'mnist');
    assert.equal(data.train, undefined);
    assert.equal(data.test!.records[4].label, 4);
    const p = data.test!.records[0].image;
    assert.ok(p.kind === 'pixels' && p.pixels.every((v, i) => v === (im.pixels[i])));
  });

  it('MNIST: a wrong magic or a label count mismatch names the file and field', () => {
    const img = Buffer.alloc(16 + 4);
    img.writeUInt32BE(0x803, 0);
    img.writeUInt32BE(1, 4);
    img.writeUInt32BE(2, 8);
    img.writeUInt32BE(2, 12);
    const lab = Buffer.alloc(8 + 2);
    lab.writeUInt32BE(0x801, 0);
    lab.writeUInt32BE(2, 4);
    const [fi, fl] = [path.join(tmp, 'i'), path.join(tmp, 'l')];
    fs.writeFileSync(fi, img);
    fs.writeFileSync(fl, lab);
    assert.throws(() => readMnist(fi, fl), (e: Error) => e instanceof UserError && e.message === `${fl}: header.count: expected 1 labels (as many as images), got 2`);
    fs.writeFileSync(fl, Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0]));
    assert.throws(() => readMnist(fi, fl), /header\.magic: expected 0x00000801 \(idx1 unsigned bytes\), got 0x00000803/);
  });

  it('CIFAR-10 binary: label byte + CHW planes become HWC pixels; bad sizes and labels are named', () => {
    // two records: record 0 label 3, red plane = 10, green = 20, blue = p % 256; record 1 label 9
    const rec = (label: number, r: number, g: number): Buffer => {
      const b = Buffer.alloc(3073);
      b[0] = label;
      b.fill(r, 1, 1025);
      b.fill(g, 1025, 2049);
      for (let p = 0; p < 1024; p++) b[2049 + p] = p % 256;
      return b;
    };
    for (const i of [1, 2, 3, 4, 5]) fs.writeFileSync(path.join(tmp, `data_batch_${i}.bin`), Buffer.concat([rec(3, 10, 20), rec(9, 30, 40)]));
    fs.writeFileSync(path.join(tmp, 'test_batch.bin'), rec(0, 1, 2));
    const data = openClassificationData(tmp);
    assert.equal(data.layout, 'cifar-binary');
    assert.equal(data.train!.records.length, 10);
    assert.deepEqual(data.train!.classes, CIFAR10_CLASSES);
    const r0 = data.train!.records[0];
    assert.equal(r0.label, 3);
    assert.equal(r0.id, 'data_batch_1.bin[0]');
    assert.ok(r0.image.kind === 'pixels');
    // pixel (y=0, x=5): R 10, G 20, B = 5; pixel (y=1, x=3) = plane index 35: B 35
    assert.deepEqual([...r0.image.pixels.subarray(15, 18)], [10, 20, 5]);
    assert.deepEqual([...r0.image.pixels.subarray(35 * 3, 35 * 3 + 3)], [10, 20, 35]);
    assert.equal(data.train!.records[1].label, 9);
    assert.equal(data.test!.records.length, 1);
    fs.writeFileSync(path.join(tmp, 'test_batch.bin'), Buffer.alloc(3000));
    assert.throws(() => readCifarBinary([path.join(tmp, 'test_batch.bin')]), /expected a multiple of 3073 bytes \(label \+ 3x32x32\), got 3000/);
    fs.writeFileSync(path.join(tmp, 'test_batch.bin'), rec(10, 0, 0));
    assert.throws(() => readCifarBinary([path.join(tmp, 'test_batch.bin')]), /records\[0\]\.label: expected 0\.\.9, got 10/);
  });

  it('image folders: the real CIFAR-10 JPEG test tree has 10 sorted classes and 10,000 32x32 images', async function () {
    requireShared(this, CIFAR);
    const set = readImageFolder(path.join(CIFAR, 'test'));
    assert.deepEqual(set.classes, CIFAR10_CLASSES);
    assert.equal(set.records.length, 10000);
    assert.equal(set.records[0].id, 'airplane/0000.jpg');
    assert.equal(set.records[9999].label, 9);
    const px = await decodeRecord(set.records[0]);
    assert.deepEqual([px.width, px.height, px.channels, px.data.length], [32, 32, 3, 3072]);
    // the cache decodes once and returns the same pixels
    const cache = new PixelCache({ ...set, records: set.records.slice(0, 3) }, 32, 32);
    const [a, b] = await Promise.all([cache.get(0), cache.get(0)]);
    assert.deepEqual(a, px.data);
    assert.equal(a.buffer, b.buffer);
    await cache.fill();
    assert.deepEqual(cache.data.subarray(0, 3072), px.data);
    // a test set must have the training set's classes
    assert.throws(() => readImageFolder(path.join(CIFAR, 'test'), ['airplane', 'zebra']), /classes\[1\]: expected a folder named "zebra"/);
  });

  it('image folders: errors for a missing root, no class folders, an empty class', () => {
    assert.throws(() => readImageFolder(path.join(tmp, 'nope')), /nope: expected a folder with one sub-folder per class/);
    assert.throws(() => readImageFolder(tmp), /expected one sub-folder per class, got none/);
    fs.mkdirSync(path.join(tmp, 'a'));
    fs.writeFileSync(path.join(tmp, 'a', 'notes.txt'), 'x');
    assert.throws(() => readImageFolder(tmp), /classes\[0\]: expected images .* in "a", got none/);
    assert.throws(() => openClassificationData(path.join(tmp, 'a')), /expected CIFAR-10 binary batches/);
  });

  it('holdOut splits 45k/5k style: disjoint, complete, seed-determined', () => {
    const set = { source: 's', classes: ['a'], records: Array.from({ length: 10 }, (_, i) => ({ id: String(i), label: 0, image: { kind: 'file' as const, path: String(i) } })) };
    const { train, val } = holdOut(set, 3, 7);
    assert.equal(train.records.length, 7);
    assert.equal(val.records.length, 3);
    assert.deepEqual([...train.records, ...val.records].map((r) => Number(r.id)).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(holdOut(set, 3, 7).val.records.map((r) => r.id), val.records.map((r) => r.id));
  });
});
