/**
 * COCO bbox evaluation end to end: {@link evaluateCoco} (pure: records in, metrics out) and a
 * detectron2-style {@link CocoEvaluator} (`reset / process / evaluate`) for use during
 * inference. Both work on parsed records and never read files.
 */
import { inputError } from '../errors.ts';
import { checkDetectionsAgainstGt, detectionsFromXywh, validateDetections, type CocoDetections, type CocoGroundTruth } from './coco-records.ts';
import { cocoEvalParams, matchAll, type CocoEvalParams } from './coco.ts';
import { accumulate } from './coco-accumulate.ts';
import { formatSummary, perCategoryAp, summarizeStats, type CocoCategoryAp } from './coco-summary.ts';

/** Everything pycocotools' COCOeval leaves behind, plus the per-category table. */
export interface CocoEvalResult {
  params: CocoEvalParams;
  /** [K] category ids, ascending (the K axis of the arrays) */
  catIds: number[];
  /** [I] image ids, ascending */
  imgIds: number[];
  /** the 12 `COCOeval.stats`: AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl */
  stats: number[];
  /** one row per category, ascending id */
  perCategory: CocoCategoryAp[];
  /** [T, R, K, A, M] row-major, -1 where a category has no non-ignored GT */
  precision: Float64Array;
  /** [T, K, A, M] row-major */
  recall: Float64Array;
  shape: { T: number; R: number; K: number; A: number; M: number };
  /** the 12 lines pycocotools' summarize() prints */
  summary: string[];
}

/**
 * Evaluates detections against ground truth with pycocotools' COCOeval(iouType='bbox') semantics.
 * @param gt ground truth, e.g. datasets/coco `CocoInstances` (every image and category in it is evaluated)
 * @param dets detections; their image/category ids must exist in `gt` (checked here)
 * @param params overrides of {@link COCO_EVAL_DEFAULTS}
 */
export function evaluateCoco(gt: CocoGroundTruth, dets: CocoDetections, params: Partial<CocoEvalParams> = {}, detsFile = 'detections'): CocoEvalResult {
  const p = cocoEvalParams(params);
  checkDetectionsAgainstGt(dets, gt, detsFile);
  const matches = matchAll(gt, dets, p);
  const acc = accumulate(matches, p);
  const stats = summarizeStats(acc, p);
  return {
    params: p,
    catIds: matches.catIds,
    imgIds: matches.imgIds,
    stats,
    perCategory: perCategoryAp(acc, p, gt.categories),
    precision: acc.precision,
    recall: acc.recall,
    shape: { T: acc.T, R: acc.R, K: acc.K, A: acc.A, M: acc.M },
    summary: formatSummary(stats, p),
  };
}

/** One image's predictions, boxes in the internal xyxy convention. */
export interface ImagePredictions {
  /** [n*4] or [n][4] x1, y1, x2, y2 absolute pixels */
  boxes: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  /** [n] confidence */
  scores: ArrayLike<number>;
  /** [n] COCO category ids (not contiguous indices) */
  categoryIds: ArrayLike<number>;
}

/**
 * Collects predictions image by image and evaluates them at the end (detectron2's
 * COCOEvaluator pattern). Boxes arrive as xyxy and are converted to COCO xywh with
 * `w = x2 - x1`, as detectron2's `instances_to_coco_json` does.
 */
export class CocoEvaluator {
  private imageId: number[] = [];
  private categoryId: number[] = [];
  private score: number[] = [];
  private xywh: number[] = [];
  private readonly imageIds: Set<number>;

  constructor(readonly gt: CocoGroundTruth, readonly params: Partial<CocoEvalParams> = {}) {
    cocoEvalParams(params);
    this.imageIds = new Set(gt.images.map((im) => im.id));
  }

  /** Forgets every prediction processed so far. */
  reset(): void {
    this.imageId = [];
    this.categoryId = [];
    this.score = [];
    this.xywh = [];
  }

  /** Adds one image's predictions; the image id must be in the ground truth. */
  process(imageId: number, pred: ImagePredictions): void {
    if (!this.imageIds.has(imageId)) throw inputError('predictions', `image ${imageId}`, `expected an image id of ${this.gt.file}, got ${imageId}`);
    const n = pred.scores.length;
    const nested = n > 0 && typeof pred.boxes[0] !== 'number';
    const flat = pred.boxes as ArrayLike<number>;
    const rows = pred.boxes as ArrayLike<ArrayLike<number>>;
    if ((nested ? rows.length : flat.length / 4) !== n || pred.categoryIds.length !== n) {
      throw inputError('predictions', `image ${imageId}`, `expected boxes [n, 4], scores [n] and categoryIds [n] of one length, got ${nested ? rows.length : flat.length / 4}, ${n}, ${pred.categoryIds.length}`);
    }
    for (let i = 0; i < n; i++) {
      const x1 = nested ? rows[i][0] : flat[4 * i], y1 = nested ? rows[i][1] : flat[4 * i + 1];
      const x2 = nested ? rows[i][2] : flat[4 * i + 2], y2 = nested ? rows[i][3] : flat[4 * i + 3];
      this.imageId.push(imageId);
      this.categoryId.push(pred.categoryIds[i]);
      this.score.push(pred.scores[i]);
      this.xywh.push(x1, y1, x2 - x1, y2 - y1);
    }
  }

  /** Adds every detection of a parsed results file, keeping its xywh exactly. */
  processResults(dets: CocoDetections): void {
    for (let i = 0; i < dets.count; i++) {
      this.imageId.push(dets.imageId[i]);
      this.categoryId.push(dets.categoryId[i]);
      this.score.push(dets.score[i]);
      for (let j = 0; j < 4; j++) this.xywh.push(dets.xywh[4 * i + j]);
    }
  }

  /** The detections collected so far, as a results list. */
  detections(): CocoDetections {
    return detectionsFromXywh(Float64Array.from(this.imageId), Float64Array.from(this.categoryId), Float64Array.from(this.score), Float64Array.from(this.xywh));
  }

  /** Evaluates everything processed since the last reset. */
  evaluate(): CocoEvalResult {
    const dets = this.detections();
    validateDetections(dets, 'predictions');
    return evaluateCoco(this.gt, dets, this.params, 'predictions');
  }
}
