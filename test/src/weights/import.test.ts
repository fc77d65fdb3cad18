import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { BatchNorm2d, Conv2d, Linear } from '../../../src/nn/layers.ts';
import { Layer } from '../../../src/nn/module.ts';
import { Rng } from '../../../src/random.ts';
import { detectFormat, importWeights, torchShape } from '../../../src/weights/import.ts';
import { createBackbone } from '../../../backbones/index.ts';
import { encodeSafetensors } from '../../../src/weights/safetensors.ts';
import { readTorchCheckpoint } from '../../../src/weights/torch.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/weights');

/** The network of make_fixtures.py's `Tiny`, with the same state names. */
class Tiny extends Layer {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  fc: Linear;
  constructor() {
    super();
    const rng = new Rng(1);
    this.conv1 = this.child('conv1', new Conv2d(3, 4, 3, { stride: 2, padding: 1 }, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(4));
    this.fc = this.child('fc', new Linear(4, 5, rng));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc.forward(tf.mean(tf.relu(this.bn1.forward(this.conv1.forward(x))), [1, 2])));
  }
}

describe('weights/import', () => {
  before(async () => {
    await initBackend();
  });

  it('a PyTorch state_dict gives torch logits (conv OIHW->HWIO, linear transposed, BN stats)', async () => {
    const ref = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tiny-net.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
    const before = tf.memory().numTensors;
    const net = new Tiny().eval();
    const report = await importWeights(net, path.join(FIXTURES, 'tiny-net.pt'));
    // conv1.weight + bn1 (weight, bias, running_mean, running_var) + fc (weight, bias) = 7 slots
    assert.deepEqual(report, { format: 'torch', loaded: 7, ignored: ['bn1.num_batches_tracked'] });
    const logits = tf.tidy(() => {
      const nchw = tf.tensor(ref.input_nchw.values, ref.input_nchw.shape);
      return net.forward(tf.transpose(nchw, [0, 2, 3, 1]));
    });
    const got = logits.dataSync();
    ref.logits.values.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-5, `logit ${i}: ${got[i]} vs torch ${v}`));
    logits.dispose();
    net.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('optional modules may be absent from the file (headless weights); anything else missing is still an error', async () => {
    const torch = readTorchCheckpoint(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'tiny-net.pt'))), 'tiny-net.pt');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-imp-'));
    const file = path.join(dir, 'headless.safetensors');
    fs.writeFileSync(file, encodeSafetensors(new Map([...torch.tensors].filter(([k]) => !k.startsWith('fc.')))));
    const net = new Tiny();
    const fcBefore = net.fc.weight.dataSync().slice();
    await assert.rejects(importWeights(net, file), /missing keys: fc\.weight, fc\.bias/);
    const report = await importWeights(net, file, { optional: ['fc'] });
    // conv1.weight + 4 bn1 slots loaded; fc left as it was
    assert.deepEqual(report, { format: 'safetensors', loaded: 5, ignored: ['bn1.num_batches_tracked'], absent: ['fc.weight', 'fc.bias'] });
    assert.deepEqual(net.fc.weight.dataSync(), fcBefore);
    assert.deepEqual(Array.from(net.bn1.runningMean.dataSync()), Array.from(torch.tensors.get('bn1.running_mean')!.data));
    await assert.rejects(importWeights(net, file, { optional: ['bn1'] }), /missing keys: fc\.weight, fc\.bias/);
    net.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('reads the same weights from safetensors (PyTorch layout), after stripping module.', async () => {
    const torch = readTorchCheckpoint(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'tiny-net.pt'))), 'tiny-net.pt');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-imp-'));
    const file = path.join(dir, 'tiny.safetensors');
    const renamed = new Map([...torch.tensors].map(([k, v]) => [`module.${k}`, v]));
    fs.writeFileSync(file, encodeSafetensors(renamed));
    const a = new Tiny();
    const b = new Tiny();
    await importWeights(a, path.join(FIXTURES, 'tiny-net.pt'));
    assert.equal((await importWeights(b, file)).format, 'safetensors');
    for (const [name, v] of a.stateDict()) assert.deepEqual(b.stateDict().get(name)!.dataSync(), v.dataSync(), name);
    // conv1.weight[kh=0, kw=1, in=2, out=3] is torch's weight[3, 2, 0, 1] = flat index ((3*3+2)*3+0)*3+1
    assert.equal(a.conv1.weight.dataSync()[((0 * 3 + 1) * 3 + 2) * 4 + 3], torch.tensors.get('conv1.weight')!.data[((3 * 3 + 2) * 3 + 0) * 3 + 1]);
    a.dispose();
    b.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('reports missing and unexpected keys and wrong shapes in one error, changing nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-imp-'));
    const file = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(file, encodeSafetensors(new Map([
      ['conv1.weight', { shape: [4, 3, 5, 5], data: new Float32Array(300) }],
      ['fc.weight', { shape: [5, 4], data: new Float32Array(20) }],
      ['head.weight', { shape: [1], data: new Float32Array(1) }],
    ])));
    const net = new Tiny();
    const fcBefore = net.fc.weight.dataSync().slice();
    await assert.rejects(importWeights(net, file), (err: Error) => {
      assert.match(err.message, /bad\.safetensors: the safetensors weights do not fit the model \(Tiny\): missing keys: bn1\.weight, bn1\.bias, bn1\.running_mean, bn1\.running_var, fc\.bias/);
      assert.match(err.message, /conv1\.weight: expected shape \[4,3,3,3\] \(PyTorch layout\), got \[4,3,5,5\]/);
      assert.match(err.message, /unexpected keys: head\.weight/);
      return true;
    });
    assert.deepEqual(net.fc.weight.dataSync(), fcBefore);
    net.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('detects formats by magic bytes and names the file otherwise', () => {
    assert.equal(detectFormat(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'tiny-zip.pt'))), 'a'), 'torch');
    assert.equal(detectFormat(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'tiny-legacy.pt'))), 'a'), 'torch');
    assert.equal(detectFormat(new Uint8Array(fs.readFileSync(path.join(FIXTURES, 'tiny-keras.h5'))), 'a'), 'keras');
    assert.equal(detectFormat(encodeSafetensors(new Map()), 'a'), 'safetensors');
    assert.throws(() => detectFormat(new TextEncoder().encode('not weights at all'), 'x.bin'), /x\.bin: unrecognised weights format/);
  });

  it('rejects an unknown format name and a missing file, naming the file', async () => {
    const net = new Tiny();
    const file = path.join(FIXTURES, 'tiny-net.pt');
    await assert.rejects(importWeights(net, file, { format: 'onnx' as never }), /tiny-net\.pt: format: expected one of auto, torch, safetensors, keras, got "onnx"/);
    await assert.rejects(importWeights(net, '/nonexistent/w.pth'), /\/nonexistent\/w\.pth: cannot read the file \(ENOENT\)/);
    net.dispose();
  });
});

describe('weights/import: torchvision names', () => {
  before(async () => {
    await initBackend();
  });

  // torchvision 0.14's state_dict keys and shapes (make_torchvision_keys.py). Building every
  // ImageNet net takes too long for the suite: resnet50 (stem, bottlenecks, downsample, fc) runs
  // here; all six (resnet18-152, vgg16) were checked once to match, in order.
  for (const name of ['resnet50']) {
    it(`${name}: every slot has torchvision's name and (PyTorch-layout) shape, in torchvision's order`, async () => {
      const tv = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'torchvision-state-keys.json'), 'utf8')) as Record<string, Array<[string, number[]]>>;
      const model = createBackbone(name);
      const ours = model.namedSlots().map(([k, s]) => [k, torchShape(s.variable.shape, s.torchLayout)]);
      model.dispose();
      assert.deepEqual(ours, tv[name]);
    });
  }
});
