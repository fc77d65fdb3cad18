import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import type { DetectionBatch } from '../../../datasets/detection/index.ts';
import { splitDetectionBatch, trainDetector } from '../../../tasks/detection/train.ts';
import { makeTinyShapes } from '../../helpers/tiny-shapes.ts';

describe('parallel: train-detector --workers 2', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-dp-det-'));
    makeTinyShapes(path.join(dir, 'shapes'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('splits a batch by images: 3 images over 2 threads = 2 + 1', () => {
    const images = [0, 1, 2].map((i) => ({ id: i }) as unknown as DetectionBatch['images'][number]);
    const [a, b] = splitDetectionBatch({ step: 4, images }, 2);
    assert.deepEqual([a.images, b.images, a.step, b.step], [images.slice(0, 2), images.slice(2), 4, 4]);
  });

  // Exact resume with a sampling task is tested on a tiny net in data-parallel.test.ts (a full
  // detector resume costs three worker start-ups); this runs the detector's replica for real.
  it('trains a Faster R-CNN update on 2 threads (1 image each): finite losses, a checkpoint, no leak', async () => {
    await initBackend();
    const before = tf.memory().numTensors;
    const logged: Array<Record<string, unknown>> = [];
    const r = await trainDetector({
      data: path.join(dir, 'shapes'), format: 'voc', preset: 'tiny', minSize: 32, maxSize: 48, batchSize: 2,
      iterations: 1, out: path.join(dir, 'run'), quiet: true, workers: 2, logEvery: 1, onLog: (row) => logged.push(row),
    });
    assert.equal(r.step, 1);
    const row = logged.find((l) => l.kind === 'train')!;
    for (const k of ['loss', 'rpn_cls', 'rpn_box', 'cls', 'box']) assert.ok(Number.isFinite(row[k]) && (row[k] as number) >= 0, `${k}: ${row[k]}`);
    assert.ok(fs.statSync(r.checkpoint).size > 0);
    assert.equal(tf.memory().numTensors, before);
  });
});
