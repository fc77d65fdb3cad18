/**
 * Issue 4's end-to-end acceptance: Faster R-CNN (ResNet-18 trunk, from scratch) trained on a
 * small generated shapes set at a small image size reaches VOC mAP@0.5 >= 0.5 on held-out
 * generated images. In-process through the real tools (makeShapes -> trainDetector with the
 * `tiny` recipe -> a checkpoint -> loadDetector + evaluateModel), so one process pays the wasm
 * start-up once. The budget is a number of updates, not minutes: the result is the same on a
 * slow or a loaded machine (the wasm backend is deterministic on one thread).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { makeShapes } from '../../../datasets/shapes/index.ts';
import { initBackend } from '../../../src/backend/index.ts';
import { loadDetector } from '../../../tasks/detection/model.ts';
import { evaluateModel } from '../../../tasks/detection/pipeline.ts';
import { RECIPES } from '../../../tasks/detection/recipes.ts';
import { trainDetector } from '../../../tasks/detection/train.ts';
import { tmpDir } from '../../helpers/tmp.ts';

describe('tasks/detection: end to end on generated shapes', function () {
  before(() => initBackend());

  it('trains Faster R-CNN ResNet-18 from scratch (recipe tiny, 40 updates) to VOC mAP@0.5 >= 0.5 on held-out images', async function () {
    // About 60-70 s on the idle 2-core machine (40 updates of ~1.2 s CPU, 30 test images);
    // several times that when other jobs share the cores.
    this.timeout(600_000);
    const root = tmpDir('resdet-e2e-');
    const data = path.join(root, 'shapes');
    // 150 images of 64x64, one circle each (22-38 px), none portrait: every 5th held out -> 120 train, 30 test
    const shapes = await makeShapes({
      out: data, images: 150, seed: 0, width: 64, height: 64, portrait: 0, classes: ['circle'], objects: [1, 1], size: [0.35, 0.6],
    });
    assert.deepEqual([shapes.train, shapes.val, shapes.objects], [120, 30, 150]);

    const before = tf.memory().numTensors;
    const trained = await trainDetector({ data, format: 'voc', preset: 'tiny', out: path.join(root, 'model'), seed: 0, quiet: true });
    assert.equal(trained.step, RECIPES.tiny.iterations);
    assert.equal(trained.checkpoint, path.join(root, 'model', 'checkpoint.safetensors'));
    assert.ok(fs.statSync(trained.checkpoint).size > 0, trained.checkpoint);

    const { model, spec } = loadDetector(trained.checkpoint);
    let run;
    try {
      run = await evaluateModel(model, spec, { data, format: 'voc', split: 'test' });
    } finally {
      model.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked by training or evaluation');
    assert.equal(run.set.records.length, 30);
    const { mAP07, mAPArea } = run.metrics.voc;
    assert.ok(mAP07 >= 0.5, `VOC mAP@0.5 (07) ${mAP07.toFixed(3)} (area ${mAPArea.toFixed(3)}) after ${trained.step} updates: expected >= 0.5`);
    console.log(`      VOC mAP@0.5 ${mAP07.toFixed(3)} (07) / ${mAPArea.toFixed(3)} (area) on 30 held-out images after ${trained.step} updates; training ${trained.seconds.toFixed(1)} s, evaluation ${run.seconds.toFixed(1)} s`);
  });
});
