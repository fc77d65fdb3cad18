/**
 * Two tiny evaluations whose curves and tables are worked out by hand in the tests
 * (pr-curves.test.ts, per-class-table.test.ts, pr-plot.test.ts).
 *
 * COCO: one image; category 1 "cat" has GT A [0,0,10,10] and B [100,100,10,10] (area 100: small);
 * detections, best first: A exactly (TP at every IoU), a box on nothing (FP), B's top 6 rows
 * [100,100,10,6] (IoU 60/100 = 0.6: TP at IoU 0.50, 0.55, 0.60, FP above). Category 2
 * "dog, small" has no GT and one detection (-1 everywhere).
 *
 * VOC: classes cat, dog, bird; image a has a cat [0,0,10,10], image b a cat [20,20,40,40];
 * cat detections a exact (0.9, TP), b far away (0.8, FP), b exact (0.7, TP); dog: nothing;
 * bird: one detection and no GT (area AP NaN, as voc_eval).
 */
import { evaluateCoco, type CocoEvalResult } from '../../../src/eval/coco-evaluator.ts';
import { detectionsFromXywh, type CocoGroundTruth } from '../../../src/eval/coco-records.ts';
import { VocEvaluator } from '../../../src/eval/voc.ts';

export function tinyCoco(): CocoEvalResult {
  const gt: CocoGroundTruth = {
    file: 'gt.json',
    images: [{ id: 1 }],
    categories: [{ id: 1, name: 'cat' }, { id: 2, name: 'dog, small' }],
    annotations: [
      { id: 1, imageId: 1, categoryId: 1, xywh: [0, 0, 10, 10], area: 100, iscrowd: false },
      { id: 2, imageId: 1, categoryId: 1, xywh: [100, 100, 10, 10], area: 100, iscrowd: false },
    ],
  };
  const dets = detectionsFromXywh(Float64Array.of(1, 1, 1, 1), Float64Array.of(1, 1, 1, 2), Float64Array.of(0.9, 0.8, 0.7, 0.5),
    Float64Array.of(0, 0, 10, 10, 300, 300, 10, 10, 100, 100, 10, 6, 50, 50, 10, 10));
  return evaluateCoco(gt, dets);
}

export function tinyVoc(): VocEvaluator {
  const ev = new VocEvaluator([
    { id: 'a', objects: [{ name: 'cat', box: [0, 0, 10, 10], difficult: false }] },
    { id: 'b', objects: [{ name: 'cat', box: [20, 20, 40, 40], difficult: false }] },
  ], { classes: ['cat', 'dog', 'bird'] });
  ev.process([
    { imageId: 'a', name: 'cat', score: 0.9, box: [0, 0, 10, 10] },
    { imageId: 'b', name: 'cat', score: 0.8, box: [200, 200, 220, 220] },
    { imageId: 'b', name: 'cat', score: 0.7, box: [20, 20, 40, 40] },
    { imageId: 'a', name: 'bird', score: 0.5, box: [0, 0, 5, 5] },
  ]);
  return ev;
}
