/**
 * `resdet compare-backbones` end to end on the tiny shapes set: two small backbones, one update
 * each. One CLI run (--json, ~18 s on 2 cores) gives the rows; the table the CLI prints without
 * --json is `formatComparison` of those rows, checked for the Tables 7-8 layout.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createBackbone } from '../../../backbones/index.ts';
import { initBackend } from '../../../src/backend/index.ts';
import { UserError } from '../../../src/errors.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import { exportWeights } from '../../../src/weights/export.ts';
import { writeSafetensors } from '../../../src/weights/safetensors.ts';
import { failureReason, formatComparison, parseBackboneWeights, type ComparisonRow } from '../../../tools/commands/compare-backbones.ts';
import { runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { makeTinyShapes, TINY_DETECTOR_FLAGS } from '../../helpers/tiny-shapes.ts';

describe('tools: compare-backbones (tiny shapes set)', function () {
  const tmp = tmpDir('resdet-compare-');
  const data = path.join(tmp, 'shapes');
  before(() => makeTinyShapes(data));

  it('--json gives one row per backbone with mAP in [0, 1], and the table has one Tables 7-8 row each', function () {
    const out = path.join(tmp, 'runs');
    const r = runCli(['compare-backbones', '--backbones', 'resnet18,resnet34', '--data', data, '--format', 'voc', '--preset', 'shapes',
      '--iterations', '1', '--out', out, '--json', ...TINY_DETECTOR_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as ComparisonRow[];
    assert.deepEqual(rows.map((row) => row.backbone), ['resnet18', 'resnet34']);
    for (const row of rows) {
      assert.deepEqual(Object.keys(row), ['backbone', 'trainData', 'testData', 'map50', 'map', 'steps', 'trainSeconds', 'trainImagesPerSecond', 'testImagesPerSecond', 'checkpoint']);
      assert.deepEqual([row.trainData, row.testData, row.steps], ['shapes train', 'shapes test', 1]);
      for (const v of [row.map50, row.map]) assert.ok(v >= 0 && v <= 1, `${v}`);
      for (const v of [row.trainSeconds, row.trainImagesPerSecond, row.testImagesPerSecond]) assert.ok(v > 0, `${v}`);
      assert.equal(row.checkpoint, path.join(out, row.backbone, 'checkpoint.safetensors'));
    }

    const lines = formatComparison(rows, 'voc');
    assert.equal(lines.length, 4); // header, rule, one row per backbone
    assert.match(lines[0], /^model +training data +test data +mAP@\.5 \(VOC07\) +mAP@\[\.5,\.95\] +steps +train time +train img\/s +test img\/s$/);
    assert.match(lines[1], /^[- ]+$/);
    for (const [i, row] of rows.entries()) {
      // cells are separated by 2+ spaces (single spaces occur inside "Faster R-CNN resnet18")
      const cells = lines[2 + i].split(/ {2,}/);
      assert.deepEqual(cells.slice(0, 6), [`Faster R-CNN ${row.backbone}`, 'shapes train', 'shapes test', (100 * row.map50).toFixed(1), (100 * row.map).toFixed(1), '1']);
    }
  });

  it('--weights per backbone: resnet18 starts from its file; resnet34\'s bad file fails it alone, the finished row is kept, exit 1', async function () {
    await initBackend();
    const good = path.join(tmp, 'r18.safetensors');
    const backbone = createBackbone('resnet18');
    let conv1: Float32Array;
    try {
      const w = backbone.stateDict().get('conv1.weight')!;
      // recognisable, unlike any initialisation: element i = i / 10000 - 0.3
      conv1 = Float32Array.from({ length: w.size }, (_, i) => i / 10000 - 0.3);
      tf.tidy(() => w.assign(tf.tensor(conv1, w.shape)));
      exportWeights(backbone, good);
    } finally {
      backbone.dispose();
    }
    const bad = path.join(tmp, 'wrong-shape.safetensors');
    // ResNet-34's conv1 is [64,3,7,7] in PyTorch layout; a 3x3 one does not fit
    writeSafetensors(bad, new Map([['conv1.weight', { shape: [64, 3, 3, 3], data: new Float32Array(64 * 3 * 3 * 3) }]]));
    const out = path.join(tmp, 'weights-runs');
    // the voc recipe fine-tunes with conv1 frozen (Appendix A): after the update the checkpoint's
    // conv1 is exactly the file's
    const r = runCli(['compare-backbones', '--backbones', 'resnet18,resnet34', '--weights', `resnet18=${good},resnet34=${bad}`, '--data', data, '--format', 'voc',
      '--preset', 'voc', '--iterations', '1', '--out', out, '--json', ...TINY_DETECTOR_FLAGS]);
    assert.equal(r.status, 1, r.stderr);
    const rows = JSON.parse(r.stdout) as ComparisonRow[];
    assert.deepEqual(rows.map((row) => [row.backbone, row.weights, row.steps]), [['resnet18', good, 1]]);
    const lines = r.stderr.trimEnd().split('\n');
    assert.ok(lines.includes(`imported 102 safetensors tensors from ${good} into resnet18`), r.stderr);
    const failed = lines.filter((l) => l.startsWith('== resnet34: failed: '));
    assert.equal(failed.length, 1, r.stderr);
    assert.match(failed[0], /wrong-shape\.safetensors/);
    assert.match(lines.at(-1)!, /^resdet: error: compare-backbones: 1 of 2 backbones failed: resnet34 \(.*wrong-shape\.safetensors.*\)$/);
    assert.equal(fs.existsSync(path.join(out, 'resnet34', 'checkpoint.safetensors')), false);
    const ckpt = loadCheckpoint(rows[0].checkpoint);
    try {
      assert.deepEqual(ckpt.model.get('backbone.conv1.weight')!.dataSync(), conv1);
    } finally {
      disposeCheckpoint(ckpt);
    }
  });
});

describe('tools: compare-backbones flags and failure lines', () => {
  const tmp = tmpDir('resdet-compare-flags-');
  const file = path.join(tmp, 'w.pth');
  before(() => fs.writeFileSync(file, 'x'));
  const fails = (text: string, pattern: RegExp) => assert.throws(() => parseBackboneWeights(text, ['resnet101', 'vgg16']), (e: unknown) => e instanceof UserError && pattern.test(e.message));

  it('parses BACKBONE=FILE per backbone; bad entries are one error naming them', () => {
    assert.deepEqual([...parseBackboneWeights(`resnet101=${file}, vgg16=${file}`, ['resnet101', 'vgg16'])], [['resnet101', file], ['vgg16', file]]);
    assert.deepEqual([...parseBackboneWeights(`vgg16=${file}`, ['resnet101', 'vgg16'])], [['vgg16', file]]);
    fails(file, /^--weights: expected BACKBONE=FILE entries separated by commas .*, got ".*w\.pth"$/);
    fails(`resnet50=${file}`, /^--weights: "resnet50" is not one of --backbones \(resnet101, vgg16\)$/);
    fails(`vgg16=${file},vgg16=${file}`, /^--weights: "vgg16" given twice$/);
    fails('vgg16=', /expected BACKBONE=FILE/);
    fails(`vgg16=${tmp}/missing.pth`, /^--weights: vgg16=.*missing\.pth: no such file$/);
    fails(`vgg16=${tmp}`, /no such file/);
    fails(',', /^--weights: expected at least one BACKBONE=FILE entry$/);
  });

  it('a failure is one line: newlines folded, long messages cut, a wasm memory fault says what to do', () => {
    assert.equal(failureReason(new Error('first\n  second\nthird')), 'first second third');
    assert.equal(failureReason('plain'), 'plain');
    assert.equal(failureReason(new Error('x'.repeat(400))).length, 300);
    assert.match(failureReason(new WebAssembly.RuntimeError('memory access out of bounds')), /^memory access out of bounds \(the wasm backend ran out of its 4 GB: use the native backend or a smaller --min-size\)$/);
  });
});
