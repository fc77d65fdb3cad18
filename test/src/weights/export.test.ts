import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { BatchNorm2d, Conv2d, Linear } from '../../../src/nn/layers.ts';
import { Module } from '../../../src/nn/module.ts';
import { Rng } from '../../../src/random.ts';
import { exportWeights } from '../../../src/weights/export.ts';
import { importWeights } from '../../../src/weights/import.ts';
import { readSafetensors } from '../../../src/weights/safetensors.ts';
import { readTorchCheckpoint } from '../../../src/weights/torch.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';

const TINY = path.join(REPO_ROOT, 'test/fixtures/weights/tiny-net.pt');

/** The slots of make_fixtures.py's Tiny network. */
class Tiny extends Module {
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.child('conv1', new Conv2d(3, 4, 3, { stride: 2, padding: 1 }, rng));
    this.child('bn1', new BatchNorm2d(4));
    this.child('fc', new Linear(4, 5, rng));
  }
}

describe('weights/export', () => {
  before(async () => {
    await initBackend();
  });

  it('writes PyTorch names, layouts and values: the torch checkpoint comes back bit for bit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-export-'));
    const file = path.join(dir, 'tiny.safetensors');
    const before = tf.memory().numTensors;
    const a = new Tiny(1);
    await importWeights(a, TINY);
    exportWeights(a, file, { model: 'tiny' });
    const torch = readTorchCheckpoint(new Uint8Array(fs.readFileSync(TINY)), TINY).tensors;
    const out = readSafetensors(new Uint8Array(fs.readFileSync(file)), file);
    assert.equal(out.layout, 'torch');
    assert.deepEqual([...out.tensors.keys()], [...torch.keys()].filter((k) => !k.endsWith('num_batches_tracked')));
    for (const [name, t] of out.tensors) {
      assert.deepEqual(t.shape, torch.get(name)!.shape, name); // conv1.weight [4, 3, 3, 3], fc.weight [5, 4]
      assert.deepEqual([...t.data], [...torch.get(name)!.data], name);
    }
    // ...and imports into another model to the same state.
    const b = new Tiny(2);
    await importWeights(b, file);
    for (const [name, v] of a.stateDict()) assert.deepEqual(b.stateDict().get(name)!.dataSync(), v.dataSync(), name);
    a.dispose();
    b.dispose();
    assert.equal(tf.memory().numTensors, before);
    fs.rmSync(dir, { recursive: true });
  });
});
