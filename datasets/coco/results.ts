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
import { checkDetectionsAgainstGt, detectionsFromXywh, validateDetections, type CocoDetections } from '../../src/eval/coco-records.ts';
import { parseJsonText, readFileForUser } from '../../src/io/json.ts';
import type { CocoInstances } from './annotations.ts';
import { scanCocoResults } from './results-scan.ts';

// The evaluator owns the detections type and its checks (src/eval/coco-records.ts); they are
// re-exported here so that the loader's users find them beside the reader.
export { checkDetectionsAgainstGt, detectionsFromXywh, validateDetections, type CocoDetections };

/** One detection as a plain record, boxes in the internal xyxy convention. */
export interface CocoDetection {
  imageId: number;
  categoryId: number;
  /** [x1, y1, x2, y2] absolute pixels */
  box: [number, number, number, number];
  score: number;
}

const RECORD = 'detections';

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
