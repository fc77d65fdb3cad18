/**
 * COCO results files: `[{image_id, category_id, bbox: [x, y, w, h], score}, ...]`, the format
 * detectors submit to the COCO server and pycocotools' `loadRes` reads.
 *
 * Detections are held as a struct of typed arrays (500,000 detections is a normal val2017
 * submission), with the file's `[x, y, w, h]` kept exactly and resdet's internal
 * `[x1, y1, x2, y2]` absolute-pixel boxes derived from it (`x2 = x + w`).
 */
import { inputError } from '../../src/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { expectObject, show } from '../../src/io/fields.ts';
import { IdIndex } from '../../src/eval/id-index.ts';
import { parseJsonText, readFileForUser } from '../../src/io/json.ts';
import type { CocoInstances } from './annotations.ts';
import { scanCocoResults } from './results-scan.ts';

/** Detections as parallel typed arrays; index i is the file's i-th record. */
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

/** One detection as a plain record, boxes in the internal xyxy convention. */
export interface CocoDetection {
  imageId: number;
  categoryId: number;
  /** [x1, y1, x2, y2] absolute pixels */
  box: [number, number, number, number];
  score: number;
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

/** Zeroed columns for n detections. */
function emptyColumns(n: number) {
  return { imageId: new Float64Array(n), categoryId: new Float64Array(n), score: new Float64Array(n), xywh: new Float64Array(4 * n) };
}

/**
 * Builds CocoDetections from plain records with xyxy boxes (a detector's output), converting to
 * COCO's xywh with `w = x2 - x1` as detectron2's `instances_to_coco_json` does.
 */
export function detectionsFromList(list: readonly CocoDetection[]): CocoDetections {
  const { imageId, categoryId, score, xywh } = emptyColumns(list.length);
  list.forEach((d, i) => {
    imageId[i] = d.imageId;
    categoryId[i] = d.categoryId;
    score[i] = d.score;
    xywh.set([d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]], 4 * i);
  });
  const dets = detectionsFromXywh(imageId, categoryId, score, xywh);
  // Keep the caller's xyxy exactly (x1 + (x2 - x1) may differ from x2 in the last bit).
  list.forEach((d, i) => dets.box.set(d.box, 4 * i));
  return dets;
}

/** The i-th detection as a plain record. */
export function detectionAt(d: CocoDetections, i: number): CocoDetection {
  return { imageId: d.imageId[i], categoryId: d.categoryId[i], box: [d.box[4 * i], d.box[4 * i + 1], d.box[4 * i + 2], d.box[4 * i + 3]], score: d.score[i] };
}

/**
 * Parses a results file's bytes. Well-formed files take a fast byte scan; anything unusual is
 * re-read with a full JSON parse so that the error names the record and field.
 * @param bytes the file's UTF-8 content
 * @param file the file name for error messages
 */
export function parseCocoResults(bytes: Uint8Array, file: string): CocoDetections {
  const scanned = scanCocoResults(bytes);
  const d = scanned
    ? detectionsFromXywh(scanned.imageId, scanned.categoryId, scanned.score, scanned.xywh)
    : fromJson(parseJsonText(new TextDecoder().decode(bytes), file), file);
  validateDetections(d, file);
  return d;
}

/**
 * Reads a COCO results file; with `gt`, also checks every image_id and category_id against it.
 * An empty list is valid (every AP is then 0).
 */
export function loadCocoResults(file: string, gt?: CocoInstances): CocoDetections {
  const d = parseCocoResults(readFileForUser(file), file);
  if (gt) checkDetectionsAgainstGt(d, gt, file);
  return d;
}

/** The slow path: per-record type checks on a decoded JSON value. */
function fromJson(json: unknown, file: string): CocoDetections {
  if (!Array.isArray(json)) throw inputError(file, '', `expected a JSON list of detections [{image_id, category_id, bbox, score}], got ${show(json)}`);
  const { imageId, categoryId, score, xywh } = emptyColumns(json.length);
  json.forEach((v, i) => {
    const where = `${RECORD}[${i}]`;
    const o = expectObject(v, file, where);
    const num = (key: string) => {
      if (typeof o[key] !== 'number') throw inputError(file, `${where}.${key}`, `expected a number, got ${show(o[key])}`);
      return o[key] as number;
    };
    imageId[i] = num('image_id');
    categoryId[i] = num('category_id');
    const b = o.bbox;
    if (!Array.isArray(b) || b.length !== 4 || !b.every((x) => typeof x === 'number')) {
      throw inputError(file, `${where}.bbox`, `expected [x, y, w, h] (4 numbers), got ${show(b)}`);
    }
    xywh.set(b as number[], 4 * i);
    score[i] = num('score');
  });
  return detectionsFromXywh(imageId, categoryId, score, xywh);
}

/**
 * Value checks shared by both read paths: integer ids, finite scores, finite boxes with
 * positive width and height.
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
export function checkDetectionsAgainstGt(d: CocoDetections, gt: CocoInstances, file: string): void {
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

/**
 * Serialises detections as a COCO results list (bbox as the stored xywh, numbers in the
 * shortest form that reads back to the same double).
 */
export function formatCocoResults(d: CocoDetections): string {
  const parts: string[] = new Array(d.count);
  for (let i = 0; i < d.count; i++) {
    const b = d.xywh;
    parts[i] = `{"image_id":${d.imageId[i]},"category_id":${d.categoryId[i]},"bbox":[${b[4 * i]},${b[4 * i + 1]},${b[4 * i + 2]},${b[4 * i + 3]}],"score":${d.score[i]}}`;
  }
  return `[${parts.join(',\n')}]\n`;
}

/** Writes a results file atomically (temporary file, then rename): never half-written. */
export function writeCocoResults(file: string, d: CocoDetections): void {
  validateDetections(d, file);
  writeFileAtomic(file, formatCocoResults(d));
}
