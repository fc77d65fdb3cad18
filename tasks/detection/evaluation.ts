/**
 * Scoring a detector's output on a detection set with both standard metrics, whatever the
 * set's format: VOC mAP@0.5 (VOC2007 11-point and area) from src/eval/voc.ts and the 12 COCO
 * stats from src/eval/coco-evaluator.ts. The evaluators take the loaders' records and never
 * re-read files; the format the set does not have is built from the same records:
 *
 * - VOC GT from a COCO set: every annotation an object, crowd regions as `difficult` (both are
 *   "ignored, neither TP nor FP" in their metric).
 * - COCO GT from a VOC set: image ids 1..N in record order, category id = label + 1,
 *   `bbox = [x1, y1, x2 - x1, y2 - y1]`, `area = w * h` (VOC has no masks), difficult objects as
 *   `iscrowd` regions.
 *
 * Results files in the set's own format: `comp4_det_test_<class>.txt` per class for VOC,
 * a COCO results JSON list for COCO.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseCocoInstances, type CocoInstances } from '../../datasets/coco/annotations.ts';
import { detectionsFromList, writeCocoResults, type CocoDetection } from '../../datasets/coco/results.ts';
import type { DetectionSet } from '../../datasets/detection/index.ts';
import { writeVocResultsDir } from '../../datasets/voc/results.ts';
import type { VocDetection } from '../../datasets/voc/records.ts';
import { evaluateCoco, type CocoEvalResult } from '../../src/eval/coco-evaluator.ts';
import { VocEvaluator, type VocEvalResult, type VocGtImage } from '../../src/eval/voc.ts';
import type { ImageDetections } from './inference.ts';

/** Both metrics of one evaluation. */
export interface DetectionMetrics {
  voc: VocEvalResult;
  coco: CocoEvalResult;
}

/** The `--json` object of `resdet evaluate`. */
export function metricsJson(m: DetectionMetrics): { voc: { mAP07: number; mAPArea: number }; coco: { stats: number[] } } {
  return { voc: { mAP07: m.voc.mAP07, mAPArea: m.voc.mAPArea }, coco: { stats: m.coco.stats } };
}

/** COCO ground truth of a set (the set's own for COCO, built from the records for VOC). */
function cocoGt(set: DetectionSet): { gt: CocoInstances; imageIdOf: (i: number) => number; categoryIdOf: (label: number) => number } {
  if (set.source.coco) {
    const cats = [...set.source.coco.categories].sort((a, b) => a.id - b.id);
    return { gt: set.source.coco, imageIdOf: (i) => set.records[i].cocoId!, categoryIdOf: (l) => cats[l].id };
  }
  let annId = 0;
  const json = {
    images: set.records.map((r, i) => ({ id: i + 1, file_name: path.basename(r.imagePath), width: r.width, height: r.height })),
    categories: set.classes.map((name, k) => ({ id: k + 1, name })),
    annotations: set.records.flatMap((r, i) => Array.from(r.labels, (label, k) => {
      const [x1, y1, x2, y2] = r.boxes.subarray(4 * k, 4 * k + 4);
      return { id: ++annId, image_id: i + 1, category_id: label + 1, bbox: [x1, y1, x2 - x1, y2 - y1], area: (x2 - x1) * (y2 - y1), iscrowd: r.ignore[k] };
    })),
  };
  return { gt: parseCocoInstances(json, `${set.description} (as COCO)`), imageIdOf: (i) => i + 1, categoryIdOf: (l) => l + 1 };
}

/** VOC ground truth of a set (see the module comment). */
function vocGt(set: DetectionSet): VocGtImage[] {
  return set.records.map((r) => ({
    id: r.id,
    objects: Array.from(r.labels, (label, k) => ({ name: set.classes[label], box: r.boxes.subarray(4 * k, 4 * k + 4), difficult: r.ignore[k] === 1 })),
  }));
}

/** Detections of every image as VOC results records. */
function vocDetections(set: DetectionSet, dets: readonly ImageDetections[]): VocDetection[] {
  return dets.flatMap((d, i) => Array.from(d.labels, (label, k): VocDetection => ({
    imageId: set.records[i].id, name: set.classes[label], score: d.scores[k],
    box: [d.boxes[4 * k], d.boxes[4 * k + 1], d.boxes[4 * k + 2], d.boxes[4 * k + 3]],
  })));
}

/**
 * Evaluates per-image detections (one entry per record, labels 0-based in `set.classes`).
 * Detections with zero width or height (a box clipped to the image border) cannot be scored
 * by VOC's results format and are left out of both metrics.
 */
export function evaluateDetections(set: DetectionSet, dets: readonly ImageDetections[]): DetectionMetrics {
  if (dets.length !== set.records.length) throw new Error(`evaluateDetections: ${set.records.length} images but ${dets.length} detection lists`);
  const scored = dets.map(positiveBoxes);
  const voc = new VocEvaluator(vocGt(set), { classes: set.classes });
  voc.process(vocDetections(set, scored));
  const coco = cocoGt(set);
  return { voc: voc.evaluate(), coco: evaluateCoco(coco.gt, detectionsFromList(cocoDetections(coco, scored))) };
}

/** Detections of every image as COCO results records (ids from the set's COCO view). */
function cocoDetections(coco: ReturnType<typeof cocoGt>, dets: readonly ImageDetections[]): CocoDetection[] {
  return dets.flatMap((d, i) => Array.from(d.labels, (label, k) => ({
    imageId: coco.imageIdOf(i), categoryId: coco.categoryIdOf(label), score: d.scores[k],
    box: [d.boxes[4 * k], d.boxes[4 * k + 1], d.boxes[4 * k + 2], d.boxes[4 * k + 3]] as [number, number, number, number],
  })));
}

/** Keeps the detections whose box has positive width and height. */
function positiveBoxes(d: ImageDetections): ImageDetections {
  const keep: number[] = [];
  for (let k = 0; k < d.scores.length; k++) if (d.boxes[4 * k + 2] > d.boxes[4 * k] && d.boxes[4 * k + 3] > d.boxes[4 * k + 1]) keep.push(k);
  if (keep.length === d.scores.length) return d;
  return {
    boxes: Float32Array.from(keep.flatMap((k) => Array.from(d.boxes.subarray(4 * k, 4 * k + 4)))),
    scores: Float32Array.from(keep.map((k) => d.scores[k])),
    labels: Int32Array.from(keep.map((k) => d.labels[k])),
  };
}

/**
 * Writes the detections in the set's standard results format under `dir`:
 * `dir/comp4_det_test_<class>.txt` (VOC) or `dir/detections_<split>_results.json` (COCO).
 * @returns the path written (a folder for VOC, a file for COCO)
 */
export function writeResults(set: DetectionSet, dets: readonly ImageDetections[], dir: string, split: string): string {
  const scored = dets.map(positiveBoxes);
  if (set.format === 'voc') {
    writeVocResultsDir(dir, set.classes, vocDetections(set, scored));
    return dir;
  }
  const file = path.join(dir, `detections_${split}_results.json`);
  fs.mkdirSync(dir, { recursive: true });
  writeCocoResults(file, detectionsFromList(cocoDetections(cocoGt(set), scored)));
  return file;
}
