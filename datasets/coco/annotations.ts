/**
 * coco-annotations: resdet's own reader for COCO "instances" JSON (no pycocotools).
 *
 * Returns plain typed records. Boxes follow resdet's one internal convention, `[x1, y1, x2, y2]`
 * in absolute pixels, converted here at load with `x2 = x + w`, `y2 = y + h` (the same sums
 * pycocotools' C IoU code forms). The file's `[x, y, w, h]` is kept beside it (`xywh`) because
 * `x2 - x1` does not always give back `w` to the last bit, and the evaluator must reproduce
 * pycocotools' arithmetic exactly (areas `w*h`, IoU from `x + w`).
 *
 * Format: https://cocodataset.org/#format-data. Category ids are not contiguous (COCO uses 1..90
 * with gaps) and images/annotations may be listed in any order.
 */
import { inputError, quote } from '../../src/errors.ts';
import { expectArray, expectId, expectNumber, expectObject, expectString, type JsonObject } from '../../src/io/fields.ts';
import { parseJsonText, readFileForUser } from '../../src/io/json.ts';
import { resolveInsideRoot } from '../../src/io/paths.ts';
import type { CocoGroundTruth, CocoGtAnnotation, CocoGtCategory, CocoGtImage } from '../../src/eval/coco-records.ts';

/** Four numbers describing one box. */
export type Box4 = [number, number, number, number];

/** One image record (`images[]`). */
export interface CocoImage extends CocoGtImage {
  id: number;
  /** Relative path under the image folder; resolve with {@link resolveCocoImagePath}. */
  fileName: string;
  width: number;
  height: number;
}

/** One category (`categories[]`); ids are arbitrary integers, not indices. */
export interface CocoCategory extends CocoGtCategory {
  id: number;
  name: string;
  supercategory?: string;
}

/** One ground-truth object (`annotations[]`). */
export interface CocoAnnotation extends CocoGtAnnotation {
  id: number;
  imageId: number;
  categoryId: number;
  /** [x1, y1, x2, y2] absolute pixels (x2 = x + w, y2 = y + h). */
  box: Box4;
  /** The file's [x, y, w, h], exactly as given (for bit-exact evaluation and round trips). */
  xywh: Box4;
  /** The file's `area` field (the segment area; COCO's area ranges classify GT by it). */
  area: number;
  /** Crowd region: matched detections are ignored, IoU is intersection / detection area. */
  iscrowd: boolean;
  /** The segmentation exactly as given (polygons or RLE), or undefined when absent. */
  segmentation?: unknown;
}

/**
 * A parsed instances file with its indexes. Arrays keep the file's order. It is the COCO
 * evaluator's ground truth as it is (src/eval/coco-records.ts `CocoGroundTruth`).
 */
export interface CocoInstances extends CocoGroundTruth {
  /** The file the records came from (used in error messages). */
  file: string;
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  imageById: Map<number, CocoImage>;
  categoryById: Map<number, CocoCategory>;
  /** Annotations of each image id, in file order (every image has an entry, maybe empty). */
  annotationsByImage: Map<number, CocoAnnotation[]>;
  /** Annotations of each category id, in file order (every category has an entry). */
  annotationsByCategory: Map<number, CocoAnnotation[]>;
}

/**
 * Parses a COCO instances object (already JSON-decoded).
 * @param json the decoded file
 * @param file the file name for error messages
 */
export function parseCocoInstances(json: unknown, file: string): CocoInstances {
  const top = expectObject(json, file, '');
  const images = expectArray(top, 'images', file, '').map((v, i) => parseImage(v, file, `images[${i}]`));
  const categories = expectArray(top, 'categories', file, '').map((v, i) => parseCategory(v, file, `categories[${i}]`));
  const rawAnns = expectArray(top, 'annotations', file, '');

  const imageById = new Map<number, CocoImage>();
  images.forEach((im, i) => {
    if (imageById.has(im.id)) throw inputError(file, `images[${i}].id`, `expected a unique image id, got ${im.id} a second time`);
    imageById.set(im.id, im);
  });
  const categoryById = new Map<number, CocoCategory>();
  categories.forEach((c, i) => {
    if (categoryById.has(c.id)) throw inputError(file, `categories[${i}].id`, `expected a unique category id, got ${c.id} a second time`);
    categoryById.set(c.id, c);
  });

  const annotationsByImage = new Map<number, CocoAnnotation[]>(images.map((im) => [im.id, []]));
  const annotationsByCategory = new Map<number, CocoAnnotation[]>(categories.map((c) => [c.id, []]));
  const annIds = new Set<number>();
  const annotations = rawAnns.map((v, i) => {
    const where = `annotations[${i}]`;
    const ann = parseAnnotation(v, file, where);
    if (annIds.has(ann.id)) throw inputError(file, `${where}.id`, `expected a unique annotation id, got ${ann.id} a second time`);
    annIds.add(ann.id);
    const byImage = annotationsByImage.get(ann.imageId);
    if (!byImage) throw inputError(file, `${where}.image_id`, `expected the id of an image in images[], got ${ann.imageId}`);
    const byCat = annotationsByCategory.get(ann.categoryId);
    if (!byCat) throw inputError(file, `${where}.category_id`, `expected the id of a category in categories[], got ${ann.categoryId}`);
    byImage.push(ann);
    byCat.push(ann);
    return ann;
  });
  return { file, images, annotations, categories, imageById, categoryById, annotationsByImage, annotationsByCategory };
}

/** Reads and parses a COCO instances JSON file; bad input throws a UserError naming the field. */
export function loadCocoInstances(file: string): CocoInstances {
  return parseCocoInstances(parseJsonText(readFileForUser(file).toString('utf8'), file), file);
}

/**
 * The absolute path of an image's file under `imageRoot`, refusing names that would escape it
 * (absolute paths, `..`): annotation files are untrusted data.
 * @param instances the parsed file (for the error message)
 * @param image the image record
 * @param imageRoot the image folder, e.g. `coco/train2017`
 */
export function resolveCocoImagePath(instances: CocoInstances, image: CocoImage, imageRoot: string): string {
  const index = instances.images.indexOf(image);
  return resolveInsideRoot(imageRoot, image.fileName, instances.file, `images[${index >= 0 ? index : `id ${image.id}`}].file_name`);
}

/** Checks a COCO `[x, y, w, h]`: four finite numbers, `w, h >= 0` (GT) or `> 0` (`positive`). */
export function expectXywh(obj: JsonObject, key: string, file: string, where: string, positive: boolean): Box4 {
  const v = obj[key];
  const ok = Array.isArray(v) && v.length === 4 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!ok) {
    throw inputError(file, `${where}.${key}`, `expected [x, y, w, h] (4 finite numbers), got ${v === undefined ? 'nothing (missing field)' : quote(v)}`);
  }
  const b = v as Box4;
  if (positive ? !(b[2] > 0 && b[3] > 0) : !(b[2] >= 0 && b[3] >= 0)) {
    throw inputError(file, `${where}.${key}`, `expected width and height ${positive ? '> 0' : '>= 0'}, got ${quote(v)}`);
  }
  return [b[0], b[1], b[2], b[3]];
}

function parseImage(v: unknown, file: string, where: string): CocoImage {
  const o = expectObject(v, file, where);
  return {
    id: expectId(o, 'id', file, where),
    fileName: expectString(o, 'file_name', file, where),
    width: expectNumber(o, 'width', file, where, 0),
    height: expectNumber(o, 'height', file, where, 0),
  };
}

function parseCategory(v: unknown, file: string, where: string): CocoCategory {
  const o = expectObject(v, file, where);
  const cat: CocoCategory = { id: expectId(o, 'id', file, where), name: expectString(o, 'name', file, where) };
  if (o.supercategory !== undefined) cat.supercategory = expectString(o, 'supercategory', file, where);
  return cat;
}

function parseAnnotation(v: unknown, file: string, where: string): CocoAnnotation {
  const o = expectObject(v, file, where);
  // GT boxes may be degenerate (w or h 0): pycocotools evaluates them (they just never match).
  const xywh = expectXywh(o, 'bbox', file, where, false);
  const crowd = o.iscrowd;
  if (crowd !== undefined && crowd !== 0 && crowd !== 1 && crowd !== true && crowd !== false) {
    throw inputError(file, `${where}.iscrowd`, `expected 0 or 1, got ${quote(crowd)}`);
  }
  const ann: CocoAnnotation = {
    id: expectId(o, 'id', file, where),
    imageId: expectId(o, 'image_id', file, where),
    categoryId: expectId(o, 'category_id', file, where),
    box: [xywh[0], xywh[1], xywh[0] + xywh[2], xywh[1] + xywh[3]],
    xywh,
    area: expectNumber(o, 'area', file, where, 0),
    iscrowd: crowd === 1 || crowd === true,
  };
  if (o.segmentation !== undefined) ann.segmentation = o.segmentation;
  return ann;
}
