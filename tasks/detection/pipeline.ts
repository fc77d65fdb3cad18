/**
 * The evaluation pipeline shared by `resdet evaluate`, `compare-backbones` and `demo`: load the
 * test split with the checkpoint's classes, detect on every image, write the set's standard
 * results files, score with both metrics.
 */
import { loadDetectionSet, type DetectionSet } from '../../datasets/detection/index.ts';
import type { FasterRCNN } from '../../detectors/index.ts';
import { evaluateDetections, writeResults, type DetectionMetrics } from './evaluation.ts';
import { detectRecords, type ImageDetections } from './inference.ts';
import { mapperOptions, type DetectorSpec } from './model.ts';

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  data: string;
  format: 'voc' | 'coco';
  split: string;
  /** folder for the results files; none written when absent */
  resultsDir?: string;
  onImage?(done: number, total: number): void;
}

/** What an evaluation produced. */
export interface EvaluationRun {
  set: DetectionSet;
  detections: ImageDetections[];
  metrics: DetectionMetrics;
  /** the results folder (VOC) or file (COCO), when written */
  results?: string;
  seconds: number;
  imagesPerSecond: number;
}

/** Runs `model` over a split and scores it (the set is read with the spec's classes). */
export async function evaluateModel(model: FasterRCNN, spec: DetectorSpec, o: EvaluateOptions): Promise<EvaluationRun> {
  const set = loadDetectionSet({ data: o.data, format: o.format, split: o.split, classes: spec.classes });
  const t0 = Date.now();
  const detections = await detectRecords(model, set.records, mapperOptions(spec), { onImage: o.onImage });
  const seconds = (Date.now() - t0) / 1000;
  const metrics = evaluateDetections(set, detections);
  const results = o.resultsDir ? writeResults(set, detections, o.resultsDir, o.split) : undefined;
  return { set, detections, metrics, results, seconds, imagesPerSecond: seconds > 0 ? set.records.length / seconds : 0 };
}
