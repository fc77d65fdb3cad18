/**
 * The COCO evaluator's input types: the few fields of an instances file and of a results list
 * that pycocotools' COCOeval reads, owned here so that src/eval depends on no loader (as
 * voc.ts owns `VocGtImage`). datasets/coco's records extend these types; any other source of
 * records (a detector's output, a test) can build them directly.
 *
 * Boxes are kept as the file's `[x, y, w, h]`: pycocotools computes IoU and areas from exactly
 * those numbers, and `x2 - x1` does not always give `w` back to the last bit.
 */
import { inputError } from '../errors.ts';
import { show } from '../io/fields.ts';
import { IdIndex } from './id-index.ts';

/** A ground-truth image (only its id is evaluated). */
export interface CocoGtImage {
  id: number;
}

/** A category; ids are arbitrary integers, not indices. */
export interface CocoGtCategory {
  id: number;
  name: string;
}

/** A ground-truth object as COCOeval reads it. */
export interface CocoGtAnnotation {
  /** annotation id (pycocotools treats a match to id 0 as no match; see matchCell) */
  id: number;
  imageId: number;
  categoryId: number;
  /** [4] the file's x, y, w, h, exactly as given */
  xywh: readonly [number, number, number, number];
  /** the `area` field (area ranges classify GT by it, not by w*h) */
  area: number;
  /** crowd region: IoU is intersection / detection area, matched detections are ignored */
  iscrowd: boolean;
}

/**
 * Ground truth for the COCO evaluator: every image and category listed is evaluated.
 * datasets/coco `CocoInstances` is one.
 */
export interface CocoGroundTruth {
  /** where the records came from, for error messages */
  file: string;
  images: readonly CocoGtImage[];
  categories: readonly CocoGtCategory[];
  annotations: readonly CocoGtAnnotation[];
}

/** Detections as parallel typed arrays; index i is the i-th record of the results list. */
export interface CocoDetections {
  count: number;
  /** [N] image ids */
  imageId: Float64Array;
  /** [N] category ids */
  categoryId: Float64Array;
  /** [N] confidence scores */
  score: Float64Array;
  /** [N*4] x, y, w, h exactly as given (written back unchanged, used for exact evaluation) */
  xywh: Float64Array;
  /** [N*4] x1, y1, x2, y2 absolute pixels (x2 = x + w, y2 = y + h) */
  box: Float64Array;
}

const RECORD = 'detections';

/**
 * Builds CocoDetections from xywh arrays (as read from a file), deriving the xyxy boxes.
 * @param xywh [N*4] x, y, w, h
 */
export function detectionsFromXywh(imageId: Float64Array, categoryId: Float64Array, score: Float64Array, xywh: Float64Array): CocoDetections {
  const n = imageId.length;
  const box = new Float64Array(4 * n);
  for (let i = 0; i < 4 * n; i += 4) {
    box[i] = xywh[i];
    box[i + 1] = xywh[i + 1];
    box[i + 2] = xywh[i] + xywh[i + 2];
    box[i + 3] = xywh[i + 1] + xywh[i + 3];
  }
  return { count: n, imageId, categoryId, score, xywh, box };
}

/**
 * Value checks on detections: integer ids, finite scores, finite boxes with positive width and
 * height. Throws a UserError naming `file`, the record and the field.
 */
export function validateDetections(d: CocoDetections, file: string): void {
  for (let i = 0; i < d.count; i++) {
    const where = `${RECORD}[${i}]`;
    if (!Number.isSafeInteger(d.imageId[i])) throw inputError(file, `${where}.image_id`, `expected an integer id, got ${show(d.imageId[i])}`);
    if (!Number.isSafeInteger(d.categoryId[i])) throw inputError(file, `${where}.category_id`, `expected an integer id, got ${show(d.categoryId[i])}`);
    if (!Number.isFinite(d.score[i])) throw inputError(file, `${where}.score`, `expected a finite number, got ${show(d.score[i])}`);
    const x = d.xywh[4 * i], y = d.xywh[4 * i + 1], w = d.xywh[4 * i + 2], h = d.xywh[4 * i + 3];
    if (!(Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(w) && Number.isFinite(h))) {
      throw inputError(file, `${where}.bbox`, `expected 4 finite numbers [x, y, w, h], got [${x}, ${y}, ${w}, ${h}]`);
    }
    if (!(w > 0 && h > 0)) {
      throw inputError(file, `${where}.bbox`, `expected width and height > 0, got [${x}, ${y}, ${w}, ${h}]`);
    }
  }
}

/**
 * Checks that every detection names an image and a category of the ground truth (pycocotools'
 * loadRes asserts on unknown image ids; an unknown category would be silently dropped there).
 */
export function checkDetectionsAgainstGt(d: CocoDetections, gt: CocoGroundTruth, file: string): void {
  // Dense tables rather than Map probes: this runs over every detection (500,000 for val2017).
  const images = new IdIndex(gt.images.map((im) => im.id));
  const categories = new IdIndex(gt.categories.map((c) => c.id));
  for (let i = 0; i < d.count; i++) {
    if (images.get(d.imageId[i]) < 0) {
      throw inputError(file, `${RECORD}[${i}].image_id`, `expected the id of an image in ${gt.file}, got ${show(d.imageId[i])}`);
    }
    if (categories.get(d.categoryId[i]) < 0) {
      throw inputError(file, `${RECORD}[${i}].category_id`, `expected the id of a category in ${gt.file}, got ${show(d.categoryId[i])}`);
    }
  }
}
