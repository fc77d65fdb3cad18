import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDetectionSet, type DetectionSet } from '../../../datasets/detection/index.ts';
import { makeShapes } from '../../../datasets/shapes/index.ts';
import { formatComparison } from '../../../tools/commands/compare-backbones.ts';
import { evaluateDetections, metricsJson, writeResults } from '../../../tasks/detection/evaluation.ts';
import { toOriginal, type ImageDetections } from '../../../tasks/detection/inference.ts';

/** The ground truth of every record as detections with score 1 (a perfect detector). */
function perfect(set: DetectionSet): ImageDetections[] {
  return set.records.map((r) => ({ boxes: r.boxes.slice(), scores: new Float32Array(r.labels.length).fill(1), labels: r.labels.slice() }));
}

describe('tasks/detection evaluation', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-det-eval-'));
  before(async () => {
    await makeShapes({ out: tmp, images: 10, seed: 2, width: 64, height: 48, classes: ['circle', 'square'], force: true });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a perfect detector scores 1 with both metrics, on the VOC and the COCO view of the set', () => {
    for (const format of ['voc', 'coco'] as const) {
      const set = loadDetectionSet({ data: tmp, format, split: 'train' });
      const m = metricsJson(evaluateDetections(set, perfect(set)));
      // the 11-point mean sums 11 ones / 11 in float: 1 up to rounding, as voc_eval
      assert.ok(Math.abs(m.voc.mAP07 - 1) < 1e-12, `${format} ${m.voc.mAP07}`);
      assert.ok(Math.abs(m.voc.mAPArea - 1) < 1e-12, `${format} ${m.voc.mAPArea}`);
      // AP, AP50, AP75 all 1; the area-range stats are 1 or -1 (no GT in that range)
      assert.deepEqual(m.coco.stats.slice(0, 3), [1, 1, 1], format);
    }
  });

  it('no detections score 0; a detection shifted off its object is a false positive', () => {
    const set = loadDetectionSet({ data: tmp, format: 'voc', split: 'train' });
    const none = set.records.map(() => ({ boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) }));
    const m0 = metricsJson(evaluateDetections(set, none));
    assert.deepEqual([m0.voc.mAP07, m0.voc.mAPArea, m0.coco.stats[0]], [0, 0, 0]);
    // shift every box right by its own width: IoU 0 with its object
    const shifted = perfect(set).map((d) => {
      const b = d.boxes.slice();
      for (let i = 0; i < b.length; i += 4) {
        const w = b[i + 2] - b[i];
        b[i] += w;
        b[i + 2] += w;
      }
      return { ...d, boxes: b };
    });
    const m1 = metricsJson(evaluateDetections(set, shifted));
    assert.ok(m1.voc.mAP07 < 0.2, `${m1.voc.mAP07}`);
  });

  it('writes comp4 files for VOC sets and a COCO results list for COCO sets', () => {
    const voc = loadDetectionSet({ data: tmp, format: 'voc', split: 'test' });
    const dir = path.join(tmp, 'res');
    writeResults(voc, perfect(voc), dir, 'test');
    const circle = fs.readFileSync(path.join(dir, 'comp4_det_test_circle.txt'), 'utf8');
    const r = voc.records[0];
    const k = Array.from(r.labels).indexOf(0);
    if (k >= 0) {
      // 1-based inclusive in the file: xmin = x1 + 1, xmax = x2
      const [x1, y1, x2, y2] = r.boxes.subarray(4 * k, 4 * k + 4);
      assert.ok(circle.includes(`${r.id} 1 ${x1 + 1} ${y1 + 1} ${x2} ${y2}\n`), circle);
    }
    const coco = loadDetectionSet({ data: tmp, format: 'coco', split: 'val' });
    const file = writeResults(coco, perfect(coco), dir, 'val');
    const list = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ image_id: number; category_id: number; bbox: number[]; score: number }>;
    assert.equal(list.length, coco.records.reduce((a, rec) => a + rec.labels.length, 0));
    const first = coco.records[0];
    // COCO: [x, y, w, h] = [x1, y1, x2 - x1, y2 - y1], category id = label + 1 for shapes
    assert.deepEqual(list[0], { image_id: first.cocoId, category_id: first.labels[0] + 1, bbox: [first.boxes[0], first.boxes[1], first.boxes[2] - first.boxes[0], first.boxes[3] - first.boxes[1]], score: 1 });
  });

  it('maps boxes back to the original image per axis and clips them', () => {
    // resized 97x64 -> 49x32: x / (49/97), y / 0.5; [49 * 10/97, 5, 49, 40] -> [10, 10, 97, 64 (clipped from 80)]
    const out = toOriginal({ scaleX: 49 / 97, scaleY: 0.5, record: { width: 97, height: 64 } }, Float32Array.from([(49 * 10) / 97, 5, 49, 40]));
    assert.deepEqual([...out].map((v) => Math.round(v * 1e4) / 1e4), [10, 10, 97, 64]);
  });

  it('prints the comparison in the layout of Tables 7-8', () => {
    const lines = formatComparison([
      { backbone: 'vgg16', trainData: 'VOC 07+12', testData: 'VOC 07 test', map50: 0.732, map: 0.4, steps: 10, trainSeconds: 65, trainImagesPerSecond: 1.5, testImagesPerSecond: 3, checkpoint: 'a' },
      { backbone: 'resnet101', trainData: 'VOC 07+12', testData: 'VOC 07 test', map50: 0.764, map: 0.45, steps: 10, trainSeconds: 3700, trainImagesPerSecond: 0.5, testImagesPerSecond: 1, checkpoint: 'b' },
    ], 'voc');
    assert.equal(lines[0], 'model                   training data  test data    mAP@.5 (VOC07)  mAP@[.5,.95]  steps  train time  train img/s  test img/s');
    assert.equal(lines[2], 'Faster R-CNN vgg16      VOC 07+12      VOC 07 test  73.2            40.0          10     1:05        1.50         3.00');
    assert.equal(lines[3], 'Faster R-CNN resnet101  VOC 07+12      VOC 07 test  76.4            45.0          10     1:01:40     0.50         1.00');
  });
});
