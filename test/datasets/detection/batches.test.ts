import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DetectionBatchSource, GroupedBatchPlan, loadDetectionSet, PIXEL_NORMS } from '../../../datasets/detection/index.ts';
import { makeShapes } from '../../../datasets/shapes/index.ts';
import { SHARED_DATA } from '../../helpers/cli.ts';
import { requireShared } from '../../helpers/shared.ts';

describe('datasets/detection batches', function () {
  it('groups by orientation, covers each image once per epoch, and is a pure function of (seed, step)', () => {
    // 4 landscape (0, 2, 3, 5) and 2 portrait (1, 4), batch 2: 2 landscape batches + 1 portrait per epoch
    const sizes = [[60, 40], [40, 60], [60, 40], [60, 40], [40, 60], [60, 40]].map(([width, height]) => ({ width, height }));
    const plan = new GroupedBatchPlan(sizes, { batchSize: 2, seed: 3 });
    for (const e of [0, 1, 2]) {
      const batches = plan.epoch(e);
      assert.equal(batches.length, 3);
      assert.deepEqual(batches.flat().sort(), [0, 1, 2, 3, 4, 5]);
      for (const b of batches) assert.ok(b.every((i) => (sizes[i].width >= sizes[i].height) === (sizes[b[0]].width >= sizes[b[0]].height)));
    }
    const again = new GroupedBatchPlan(sizes, { batchSize: 2, seed: 3 });
    // step 4 = epoch 1, batch 1, asked of a fresh plan first
    assert.deepEqual(again.batch(4), plan.epoch(1)[1]);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((s) => again.batch(s)), [0, 1, 2, 3, 4, 5, 6, 7].map((s) => plan.batch(s)));
    assert.notDeepEqual(plan.epoch(0), plan.epoch(1));
    assert.throws(() => new GroupedBatchPlan(sizes, { batchSize: 5, seed: 0 }), /batchSize 5: expected at most the images of one orientation \(batches are grouped by orientation\), got 4 landscape and 2 portrait images/);
  });

  describe('over a shapes set', function () {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-batches-'));
    before(async () => {
      await makeShapes({ out: tmp, images: 10, seed: 1, width: 64, height: 48, force: true });
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('VOC and COCO views of the set give the same records', () => {
      const voc = loadDetectionSet({ data: tmp, format: 'voc', split: 'trainval' }); // no trainval.txt: train
      const coco = loadDetectionSet({ data: tmp, format: 'coco', split: 'train' });
      assert.equal(voc.records.length, 8);
      assert.deepEqual(voc.classes, ['circle', 'square', 'triangle', 'star']);
      assert.deepEqual(coco.classes, voc.classes);
      assert.deepEqual(coco.records.map((r) => [Number(r.id), r.imagePath, [...r.boxes], [...r.labels]]), voc.records.map((r) => [Number(r.id), r.imagePath, [...r.boxes], [...r.labels]]));
      assert.equal(loadDetectionSet({ data: tmp, format: 'voc', split: 'test' }).records.length, 2);
      assert.throws(() => loadDetectionSet({ data: tmp, format: 'voc', split: 'minival' }), /minival\.txt: split: no such image set \(this folder has: test, train, val\)/);
      assert.throws(() => loadDetectionSet({ data: tmp, format: 'coco', split: 'minival' }), /expected instances_minival\.json/);
    });

    it('batch(step) gives the same decoded batch whether prefetched, asked first, or asked again', async () => {
      const set = loadDetectionSet({ data: tmp, format: 'voc', split: 'train' });
      const opts = { batchSize: 1, seed: 5, prefetch: 2, mapper: { minSize: 32, maxSize: 64, norm: PIXEL_NORMS.torchvision } };
      const a = new DetectionBatchSource(set.records, opts);
      const seq = [];
      for (let s = 0; s < 4; s++) seq.push(await a.batch(s));
      const b = new DetectionBatchSource(set.records, opts);
      const third = await b.batch(3);
      assert.equal(third.images[0].record.id, seq[3].images[0].record.id);
      assert.equal(third.images[0].flipped, seq[3].images[0].flipped);
      assert.deepEqual(third.images[0].boxes, seq[3].images[0].boxes);
      assert.deepEqual(third.images[0].pixels, seq[3].images[0].pixels);
      for (const batch of seq) {
        const m = batch.images[0];
        // shorter side 32 (48 -> 32, 64 -> 43 rounded), boxes inside the resized image
        assert.equal(Math.min(m.width, m.height), 32);
        for (let i = 0; i < m.boxes.length; i += 4) assert.ok(m.boxes[i] >= 0 && m.boxes[i + 2] <= m.width + 1e-4 && m.boxes[i + 3] <= m.height + 1e-4);
      }
      // flips are roughly half over many steps (pure function of seed, step, slot)
      const flips = Array.from({ length: 200 }, (_, s) => a.flipped(s, 0)).filter(Boolean).length;
      assert.ok(flips > 70 && flips < 130, `${flips} flips of 200`);
    });
  });

  describe('real data', function () {
    it('reads the raccoon set (no image sets: every 5th file held out) with its own class', function () {
      const root = path.join(SHARED_DATA, 'raccoon');
      requireShared(this, root);
      const train = loadDetectionSet({ data: root, format: 'voc', split: 'train' });
      const test = loadDetectionSet({ data: root, format: 'voc', split: 'test' });
      assert.deepEqual(train.classes, ['raccoon']);
      assert.deepEqual([train.records.length, test.records.length], [160, 40]);
      assert.equal(new Set([...train.records, ...test.records].map((r) => r.id)).size, 200);
      // trainval (the voc preset's split) must not hold the test images: it is train here
      const trainval = loadDetectionSet({ data: root, format: 'voc', split: 'trainval' });
      assert.deepEqual(trainval.records.map((r) => r.id), train.records.map((r) => r.id));
      assert.equal(loadDetectionSet({ data: root, format: 'voc', split: 'all' }).records.length, 200);
    });
  });
});
