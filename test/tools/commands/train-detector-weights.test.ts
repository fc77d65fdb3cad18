/**
 * `resdet train-detector --weights FILE`: a ResNet-18 exported by resdet (PyTorch names and layout)
 * is imported into the detector's backbone before training; bad weight files are one error line.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createBackbone } from '../../../backbones/index.ts';
import { initBackend } from '../../../src/backend/index.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import { exportWeights } from '../../../src/weights/export.ts';
import { encodeSafetensors, readSafetensors, writeSafetensors } from '../../../src/weights/safetensors.ts';
import { runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { makeTinyShapes, TINY_DETECTOR_FLAGS } from '../../helpers/tiny-shapes.ts';

describe('tools: train-detector --weights (tiny shapes set)', function () {
  const tmp = tmpDir('resdet-det-weights-');
  const data = path.join(tmp, 'shapes');
  before(() => makeTinyShapes(data));
  // The voc recipe fine-tunes: conv1 (and conv2_x, every BN) is frozen (Appendix A), so after an
  // update the detector's conv1 must still be exactly the imported one.
  const train = (weights: string, out: string) => runCli(['train-detector', '--data', data, '--format', 'voc', '--preset', 'voc', '--backbone', 'resnet18',
    '--weights', weights, '--iterations', '1', '--out', out, '--quiet', ...TINY_DETECTOR_FLAGS]);

  it('imports an exported ResNet-18: the frozen conv1 in the checkpoint equals the exported one exactly', async function () {
    await initBackend();
    const before = tf.memory().numTensors;
    const file = path.join(tmp, 'r18.safetensors');
    const backbone = createBackbone('resnet18');
    let conv1: Float32Array;
    try {
      const w = backbone.stateDict().get('conv1.weight')!;
      // recognisable, unlike any initialisation: element i = i / 10000 - 0.3 (HWIO [7,7,3,64])
      conv1 = Float32Array.from({ length: w.size }, (_, i) => i / 10000 - 0.3);
      tf.tidy(() => w.assign(tf.tensor(conv1, w.shape)));
      exportWeights(backbone, file);
    } finally {
      backbone.dispose();
    }
    assert.equal(tf.memory().numTensors, before);

    const out = path.join(tmp, 'run');
    const r = train(file, out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, `imported 102 safetensors tensors from ${file} into resnet18\n`);
    assert.match(r.stdout, /steps: 1 of 1 /);
    const ckpt = loadCheckpoint(path.join(out, 'checkpoint.safetensors'));
    try {
      const got = ckpt.model.get('backbone.conv1.weight')!;
      assert.deepEqual(got.shape, [7, 7, 3, 64]);
      assert.deepEqual(got.dataSync(), conv1);
      assert.equal((ckpt.config as { train: { weights: string } }).train.weights, file);
    } finally {
      disposeCheckpoint(ckpt);
    }
    assert.equal(tf.memory().numTensors, before);
  });

  it('headless weights (no fc, which the detector does not use) import too, and the run says so', async function () {
    await initBackend();
    const full = path.join(tmp, 'r18-full.safetensors');
    const backbone = createBackbone('resnet18', { init: 'none' });
    exportWeights(backbone, full);
    backbone.dispose();
    const file = path.join(tmp, 'r18-headless.safetensors');
    const tensors = readSafetensors(new Uint8Array(fs.readFileSync(full)), full).tensors;
    fs.writeFileSync(file, encodeSafetensors(new Map([...tensors].filter(([k]) => !k.startsWith('fc.')))));
    const r = train(file, path.join(tmp, 'headless'));
    assert.equal(r.status, 0, r.stderr);
    // 102 tensors of ResNet-18 less fc.weight and fc.bias
    assert.equal(r.stderr, `imported 100 safetensors tensors from ${file} into resnet18 (not in the file, unused: fc.weight, fc.bias)\n`);
  });

  it('wrongly shaped weights give exit 1, one line naming the file and the tensor, and no checkpoint', function () {
    const file = path.join(tmp, 'wrong-shape.safetensors');
    // conv1 of ResNet-18 is [64,3,7,7] in PyTorch layout; a 3x3 one does not fit
    writeSafetensors(file, new Map([['conv1.weight', { shape: [64, 3, 3, 3], data: new Float32Array(64 * 3 * 3 * 3) }]]));
    const out = path.join(tmp, 'bad');
    const r = train(file, out);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr); // one line + the final newline
    assert.ok(r.stderr.startsWith(`resdet: error: ${file}: `), r.stderr);
    assert.match(r.stderr, /conv1\.weight: expected shape \[64,3,7,7\] \(PyTorch layout\), got \[64,3,3,3\]\n$/);
    assert.ok(!fs.existsSync(path.join(out, 'checkpoint.safetensors')));
  });
});
