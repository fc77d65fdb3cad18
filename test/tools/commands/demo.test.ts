/**
 * `resdet demo` with the smallest budget its flags allow (10 images, a few seconds of training):
 * it exits 0, says where the checkpoint and the detections picture are, and they exist.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { demoInput, describeTruth } from '../../../tools/commands/demo.ts';
import { mergeDetector, RECIPES, shapesAnchorSizes } from '../../../tasks/detection/recipes.ts';
import { runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';

describe('tools: demo (smallest budget)', function () {
  it('trains, evaluates, draws and prints where the checkpoint and pictures are', function () {
    const out = path.join(tmpDir('resdet-demo-'), 'demo');
    // 0.05 min = 3 s of training: at least one update always runs before the time check
    const r = runCli(['demo', '--out', out, '--minutes', '0.05', '--images', '10', '--seed', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^resdet demo: 10 synthetic images/);
    assert.match(r.stdout, /VOC mAP@0\.5 (\d\.\d{3}) \(07\)/);
    const map = Number(/VOC mAP@0\.5 (\d\.\d{3})/.exec(r.stdout)![1]);
    assert.ok(map >= 0 && map <= 1, `${map}`);
    const checkpoint = /^checkpoint: (.+)$/m.exec(r.stdout);
    const pictures = /^pictures: +(\S+) \(and (.+)\/\)$/m.exec(r.stdout);
    assert.ok(checkpoint && pictures, r.stdout);
    assert.equal(checkpoint[1], path.join(out, 'model', 'checkpoint.safetensors'));
    assert.equal(pictures[1], path.join(out, 'detections.png'));
    for (const f of [checkpoint[1], pictures[1]]) assert.ok(fs.statSync(f).size > 0, f);
    // 10 images -> 2 held-out test images, both drawn
    assert.equal(fs.readdirSync(pictures[2]).filter((f) => f.endsWith('.png')).length, 2);
  });
});

describe('tools: demo recipe and titles', () => {
  it('at the default 128x96 the demo runs the shapes recipe as it is; another --size scales the input and anchors with it', () => {
    assert.deepEqual(shapesAnchorSizes(96), RECIPES.shapes.detector.rpn.anchorSizes);
    assert.deepEqual(demoInput(128, 96), { minSize: RECIPES.shapes.minSize, maxSize: RECIPES.shapes.maxSize, anchorSizes: [16, 32, 64] });
    // 192 px: objects 29-86 px (15-45%), anchors 192/6, 192/3, 2*192/3; longer side capped at 5:3
    assert.deepEqual(demoInput(256, 192), { minSize: 192, maxSize: 320, anchorSizes: [32, 64, 128] });
    assert.deepEqual(demoInput(96, 128), demoInput(128, 96));
  });

  it('detector overrides merge part by part over a recipe, and absent parts stay absent', () => {
    const merged = mergeDetector(RECIPES.shapes.detector, { rpn: { anchorSizes: [32, 64, 128] } });
    assert.deepEqual(merged.rpn, { ...RECIPES.shapes.detector.rpn, anchorSizes: [32, 64, 128] });
    assert.deepEqual(merged.roiHeads, RECIPES.shapes.detector.roiHeads);
    assert.equal(merged.freezeBackbone, false);
    assert.deepEqual(mergeDetector({ roiHeads: { roiOp: 'pool' } }, { freezeBackbone: false }), { roiHeads: { roiOp: 'pool' }, freezeBackbone: false });
    assert.equal(mergeDetector(RECIPES.voc.detector, undefined), RECIPES.voc.detector);
  });

  it('titles say what each image holds; bad flags are one line', () => {
    assert.equal(describeTruth([2, 0, 2], ['circle', 'square', 'triangle']), 'circle, triangle x2');
    assert.equal(describeTruth([], ['circle']), 'nothing');
    const r = runCli(['demo', '--out', path.join(tmpDir('resdet-demo-flags-'), 'demo'), '--drop-at', '1.5']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'resdet: error: --drop-at: expected a fraction in (0, 1], got "1.5"\n');
  });
});
