/**
 * COCO evaluation on hand-made cases whose numbers are worked out in the comments, the
 * reference quirks one by one (crowd, tie order, last-of-equal-best, GT id 0, area bounds),
 * and user params (maxDets above 100, custom area ranges).
 */
import assert from 'node:assert/strict';
import { parseCocoInstances, type CocoInstances } from '../../../datasets/coco/annotations.ts';
import { detectionsFromXywh, type CocoDetections } from '../../../datasets/coco/results.ts';
import { boxIouXywh, cellScratch, COCO_EVAL_DEFAULTS, cocoEvalParams, FP, IGNORED, matchAll, matchCell, TP, type CocoMatches } from '../../../src/eval/coco.ts';
import { CocoEvaluator, evaluateCoco } from '../../../src/eval/coco-evaluator.ts';

type Xywh = [number, number, number, number];

/** A GT file with images 1..nImages (640x480) and categories 1..nCats. */
function gtOf(anns: Array<{ image: number; cat?: number; bbox: Xywh; area?: number; crowd?: boolean; id?: number }>, nImages = 1, nCats = 1): CocoInstances {
  return parseCocoInstances({
    images: Array.from({ length: nImages }, (_, i) => ({ id: i + 1, width: 640, height: 480, file_name: `${i + 1}.jpg` })),
    categories: Array.from({ length: nCats }, (_, i) => ({ id: i + 1, name: `c${i + 1}` })),
    annotations: anns.map((a, i) => ({
      id: a.id ?? i + 1, image_id: a.image, category_id: a.cat ?? 1, bbox: a.bbox,
      area: a.area ?? a.bbox[2] * a.bbox[3], iscrowd: a.crowd ? 1 : 0,
    })),
  }, 'gt.json');
}

function detsOf(list: Array<{ image: number; cat?: number; bbox: Xywh; score: number }>): CocoDetections {
  return detectionsFromXywh(
    Float64Array.from(list.map((d) => d.image)), Float64Array.from(list.map((d) => d.cat ?? 1)),
    Float64Array.from(list.map((d) => d.score)), Float64Array.from(list.flatMap((d) => d.bbox)),
  );
}

/** Outcome of each detection (file index) at area `a`, every threshold. */
function outcomes(m: CocoMatches, dets: CocoDetections, a: number, T = 10): number[][] {
  // positions run in (category, -score, image, file) order; map back by sorting the same way
  const order = Array.from({ length: dets.count }, (_, i) => i)
    .sort((x, y) => dets.categoryId[x] - dets.categoryId[y] || dets.score[y] - dets.score[x] || dets.imageId[x] - dets.imageId[y] || x - y);
  const out: number[][] = new Array(dets.count);
  order.forEach((e, p) => (out[e] = Array.from({ length: T }, (_, t) => m.state[(p * 4 + a) * T + t])));
  return out;
}

describe('eval/coco', () => {
  it('thresholds are numpy linspace values', () => {
    assert.equal(COCO_EVAL_DEFAULTS.iouThrs.length, 10);
    assert.equal(COCO_EVAL_DEFAULTS.iouThrs[8], 0.8999999999999999); // 8 * (0.45 / 9) + 0.5
    assert.equal(COCO_EVAL_DEFAULTS.recThrs.length, 101);
    assert.equal(COCO_EVAL_DEFAULTS.recThrs[35], 0.35000000000000003); // 35 * 0.01
    assert.equal(COCO_EVAL_DEFAULTS.recThrs[100], 1);
  });

  it('boxIouXywh: COCO IoU without +1, crowd union = detection area', () => {
    // det [0,0,10,10], gt [5,0,10,10]: inter 5*10 = 50, union 100 + 100 - 50 = 150 -> 1/3;
    // as a crowd GT: 50 / det area 100 = 0.5; touching boxes (w = 0) and disjoint ones: 0.
    const dt = Float64Array.from([0, 0, 10, 10]);
    const gt = Float64Array.from([5, 0, 10, 10, 5, 0, 10, 10, 10, 0, 5, 5, 50, 50, 1, 1]);
    const out = new Float64Array(4);
    boxIouXywh(dt, Int32Array.of(0), 1, gt, Int32Array.of(0, 1, 2, 3), Uint8Array.of(0, 1, 0, 0), 4, out);
    assert.deepEqual([...out], [50 / 150, 0.5, 0, 0]);
  });

  it('a detection on a regular GT (IoU 0.5556) and a crowd region (1.0) is TP up to 0.55, ignored above', () => {
    // GT [0,0,10,10]; det [0,0,10,18]: inter 100, union 180 -> 0.5556 (>= 0.5, 0.55; < 0.6).
    // Crowd GT = the det's box: IoU = 180 / 180 = 1. The regular GT is scanned first and, once
    // matched, the scan stops at the first ignored GT, so the crowd region wins only above 0.55.
    const gt = gtOf([{ image: 1, bbox: [0, 0, 10, 10] }, { image: 1, bbox: [0, 0, 10, 18], crowd: true }]);
    const dets = detsOf([{ image: 1, bbox: [0, 0, 10, 18], score: 0.9 }]);
    const m = matchAll(gt, dets, cocoEvalParams());
    assert.deepEqual(outcomes(m, dets, 0)[0], [TP, TP, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED, IGNORED]);
  });

  it('crowd regions absorb any number of detections (neither TP nor FP); ignored GT is not counted', () => {
    const gt = gtOf([{ image: 1, bbox: [0, 0, 100, 100], area: 3000, crowd: true }]);
    const dets = detsOf([0.9, 0.8, 0.7].map((score, i) => ({ image: 1, bbox: [i, i, 50, 50] as Xywh, score })));
    const m = matchAll(gt, dets, cocoEvalParams());
    for (const o of outcomes(m, dets, 0)) assert.deepEqual(o, new Array(10).fill(IGNORED));
    assert.equal(m.npig[0], 0); // no non-crowd GT: the category is -1 everywhere
    const r = evaluateCoco(gt, dets);
    assert.deepEqual(r.stats, new Array(12).fill(-1));
    assert.equal(r.perCategory[0].ap, -1);
  });

  it('equal best IoUs go to the last GT; a GT with annotation id 0 counts as unmatched (pycocotools quirk)', () => {
    // Two identical GTs (ids 5 and 0), two identical detections. The first detection takes the
    // LAST of the equal-IoU GTs (id 0): pycocotools stores the match as the GT id and tests it
    // for truth, so it is an FP; the second detection takes the GT with id 5: TP.
    const gt = gtOf([{ image: 1, bbox: [0, 0, 20, 20], id: 5 }, { image: 1, bbox: [0, 0, 20, 20], id: 0 }]);
    const dets = detsOf([{ image: 1, bbox: [0, 0, 20, 20], score: 0.9 }, { image: 1, bbox: [0, 0, 20, 20], score: 0.8 }]);
    const o = outcomes(matchAll(gt, dets, cocoEvalParams()), dets, 0);
    assert.deepEqual(o[0], new Array(10).fill(FP));
    assert.deepEqual(o[1], new Array(10).fill(TP));
  });

  it('area ranges are inclusive at both ends; unmatched detections are classified by w*h', () => {
    // GT area exactly 32^2 = 1024 is both small and medium; det 10x10 = 100 is small only.
    const gt = gtOf([{ image: 1, bbox: [0, 0, 32, 32], area: 1024 }]);
    const dets = detsOf([{ image: 1, bbox: [300, 300, 10, 10], score: 0.9 }]);
    const m = matchAll(gt, dets, cocoEvalParams());
    assert.deepEqual([...m.npig], [1, 1, 1, 0]); // all, small, medium, large
    const o = [0, 1, 2, 3].map((a) => outcomes(m, dets, a)[0][0]);
    assert.deepEqual(o, [FP, FP, IGNORED, IGNORED]);
  });

  it('hand-computed AP: TP, FP, TP over 2 GT', () => {
    // Scores 0.9 (TP), 0.8 (FP), 0.7 (TP), 2 GT of area 100*100 (large), at every IoU threshold:
    // rc = [0.5, 0.5, 1], pr = [1, 0.5, 2/3] -> envelope [1, 2/3, 2/3].
    // recThrs 0.00..0.50 (51 values) -> index 0 -> 1; 0.51..1.00 (50 values) -> index 2 -> 2/3.
    // AP = (51 + 50 * 2/3) / 101. AR@100 = 1, AR@1 = 0.5 (one detection per image).
    const gt = gtOf([{ image: 1, bbox: [0, 0, 100, 100] }, { image: 1, bbox: [200, 200, 100, 100] }]);
    const dets = detsOf([
      { image: 1, bbox: [0, 0, 100, 100], score: 0.9 },
      { image: 1, bbox: [400, 0, 100, 100], score: 0.8 },
      { image: 1, bbox: [200, 200, 100, 100], score: 0.7 },
    ]);
    const r = evaluateCoco(gt, dets);
    const ap = (51 + 50 * (2 / 3)) / 101;
    assert.ok(Math.abs(r.stats[0] - ap) < 1e-12, `${r.stats[0]} vs ${ap}`);
    assert.ok(Math.abs(r.stats[1] - ap) < 1e-12);
    assert.equal(r.stats[3], -1); // no small GT
    assert.equal(r.stats[4], -1); // no medium GT
    assert.ok(Math.abs(r.stats[5] - ap) < 1e-12);
    assert.equal(r.stats[6], 0.5);
    assert.equal(r.stats[8], 1);
    assert.deepEqual(r.perCategory.map((c) => c.ar100), [1]);
    assert.deepEqual([r.shape.T, r.shape.R, r.shape.K, r.shape.A, r.shape.M], [10, 101, 1, 4, 3]);
  });

  it('tied scores rank by ascending image id, then file order', () => {
    // Image 2's detection (FP) comes first in the file, image 1's (TP) second, both score 0.5.
    // pycocotools concatenates per image in ascending id and sorts stably: TP then FP,
    // pr = [1, 0.5], rc = [0.5, 0.5] -> 1 at recThrs <= 0.5 (51 of 101), 0 above: AP = 51/101.
    const gt = gtOf([{ image: 1, bbox: [0, 0, 50, 50] }, { image: 2, bbox: [0, 0, 50, 50] }], 2);
    const dets = detsOf([{ image: 2, bbox: [300, 300, 50, 50], score: 0.5 }, { image: 1, bbox: [0, 0, 50, 50], score: 0.5 }]);
    const ap = evaluateCoco(gt, dets).stats[0];
    assert.ok(Math.abs(ap - 51 / 101) < 1e-12, String(ap)); // file order (FP first) would give 25.5/101
  });

  it('maxDets above 100: a hit ranked 150th counts only with maxDets 200', () => {
    // 149 misses scored above one exact hit, all in one image and category.
    const gt = gtOf([{ image: 1, bbox: [0, 0, 40, 40] }]);
    const list = Array.from({ length: 149 }, (_, i) => ({ image: 1, bbox: [300 + (i % 10), 300, 20, 20] as Xywh, score: 0.9 - i * 1e-3 }));
    list.push({ image: 1, bbox: [0, 0, 40, 40], score: 0.01 });
    const dets = detsOf(list);
    assert.equal(evaluateCoco(gt, dets).stats[8], 0); // AR@100
    const r = evaluateCoco(gt, dets, { maxDets: [1, 10, 200] });
    assert.equal(r.stats[8], 1); // AR@200: recall 1 at every threshold
    // precision at its only TP = 1 / (149 + 1 + eps) for all 101 recall thresholds
    assert.ok(Math.abs(r.stats[0] - 1 / 150) < 1e-15);
    assert.match(r.summary[8], /maxDets=200 \] = 1\.000$/);
  });

  it('custom area ranges and labels; stats whose label is absent are -1', () => {
    const gt = gtOf([{ image: 1, bbox: [0, 0, 10, 10] }, { image: 1, bbox: [100, 100, 100, 100] }]);
    const dets = detsOf([{ image: 1, bbox: [0, 0, 10, 10], score: 0.9 }, { image: 1, bbox: [100, 100, 100, 100], score: 0.8 }]);
    const r = evaluateCoco(gt, dets, { areaRng: [[0, 1e10], [0, 500]], areaRngLbl: ['all', 'tiny'] });
    assert.equal(r.shape.A, 2);
    assert.equal(r.stats[0], 1);
    assert.deepEqual([r.stats[3], r.stats[4], r.stats[5]], [-1, -1, -1]);
    assert.throws(() => cocoEvalParams({ areaRngLbl: ['all'] }), /areaRngLbl: expected 4 labels/);
    assert.throws(() => cocoEvalParams({ maxDets: [100, 0] }), /maxDets: expected a non-empty list of positive integers/);
    assert.deepEqual(cocoEvalParams({ maxDets: [100, 1, 10] }).maxDets, [1, 10, 100]); // sorted, as COCOeval.evaluate() does
  });

  it('CocoEvaluator reset/process/evaluate equals evaluateCoco on the same detections', () => {
    const gt = gtOf([{ image: 1, bbox: [0, 0, 100, 100] }, { image: 2, bbox: [10, 10, 30, 30], cat: 2 }], 2, 2);
    const ev = new CocoEvaluator(gt);
    ev.process(1, { boxes: [[1, 1, 99, 101]], scores: [0.8], categoryIds: [1] });
    ev.reset();
    ev.process(1, { boxes: Float64Array.of(0, 0, 100, 100, 5, 5, 50, 50), scores: [0.9, 0.3], categoryIds: [1, 2] });
    ev.process(2, { boxes: [[10, 10, 40, 40]], scores: [0.7], categoryIds: [2] });
    const viaEvaluator = ev.evaluate();
    const dets = detsOf([
      { image: 1, bbox: [0, 0, 100, 100], score: 0.9 }, { image: 1, cat: 2, bbox: [5, 5, 45, 45], score: 0.3 },
      { image: 2, cat: 2, bbox: [10, 10, 30, 30], score: 0.7 },
    ]);
    assert.deepEqual(viaEvaluator.stats, evaluateCoco(gt, dets).stats);
    assert.throws(() => ev.process(7, { boxes: [], scores: [], categoryIds: [] }), /expected an image id of gt\.json, got 7/);
  });

  it('matchCell leaves no state behind between cells (scratch reuse)', () => {
    // Same cell twice through one scratch: identical outcomes.
    const cell = {
      D: 2, G: 1, ious: Float64Array.of(0.8, 0.8), gtArea: Float64Array.of(100), gtCrowd: Uint8Array.of(0),
      gtIdZero: Uint8Array.of(0), dtArea: Float64Array.of(100, 100),
    };
    const p = cocoEvalParams();
    const scratch = cellScratch(4);
    const a = new Uint8Array(40 * 2), b = new Uint8Array(40 * 2);
    matchCell(cell, p, a, Int32Array.of(0, 1), scratch);
    matchCell(cell, p, b, Int32Array.of(0, 1), scratch);
    assert.deepEqual(a, b);
    // layout [N, A, T]: detection d, area 0, threshold t at d * 40 + t.
    // t = 0.5: the first detection is TP, the second finds the GT taken: FP. t = 0.85 (index 7): 0.8 < 0.85, both FP.
    assert.deepEqual([a[0], a[40], a[7], a[47]], [TP, FP, FP, FP]);
  });
});
