/**
 * The plain records the VOC readers return, and the one place where VOC's coordinates are
 * converted to resdet's internal box convention.
 *
 * Box convention. resdet boxes are `[x1, y1, x2, y2]` in absolute pixels with continuous
 * pixel-edge coordinates: a box covering a whole W x H image is `[0, 0, W, H]` and its width is
 * `x2 - x1`. VOC XML stores 1-based inclusive pixel indices (`xmin = 1` is the first column,
 * `xmax = W` the last), so a VOC box is `xmax - xmin + 1` pixels wide. The loaders convert with
 *
 *     x1 = xmin - 1,  y1 = ymin - 1,  x2 = xmax,  y2 = ymax
 *
 * (detectron2's `load_voc_instances` does the same), and the writers convert back with
 * `xmin = x1 + 1`. The width `x2 - x1` then equals the VOC width `xmax - xmin + 1`, which is why
 * the reference's "+1" appears nowhere else in resdet. For every coordinate >= 0.5 (any box
 * inside its image) `xmin - 1` is exact in float64 (Sterbenz), so `x1 + 1` gives back the file's
 * value bit for bit; src/eval/voc.ts relies on that to reproduce voc_eval exactly.
 */

/** `[x1, y1, x2, y2]`, absolute pixels, continuous coordinates (see the module comment). */
export type Box = [x1: number, y1: number, x2: number, y2: number];

/** One `<object>` of a VOC annotation. */
export interface VocObject {
  /** `<name>`, the class name as written. */
  name: string;
  /** `<bndbox>` converted to `[x1, y1, x2, y2]` (x1 = xmin - 1, x2 = xmax). */
  box: Box;
  /** `<difficult>` (0 when absent): ignored by the VOC metric, neither TP nor FP. */
  difficult: boolean;
  /** `<truncated>` (0 when absent). */
  truncated: boolean;
}

/** One annotation file, as parsed (no file-system information). */
export interface VocAnnotation {
  /** `<filename>` as written: a path relative to the images folder (the loader refuses one that leaves it). */
  filename: string;
  /** `<size><width>`, pixels. */
  width: number;
  /** `<size><height>`, pixels. */
  height: number;
  /** `<size><depth>` (channels) when present. */
  depth?: number;
  /** The `<object>`s in file order (the order matters: voc_eval breaks IoU ties by it). */
  objects: VocObject[];
}

/** A VOC object of a dataset record: a parsed object plus its index in the class list. */
export interface VocLabeledObject extends VocObject {
  /** Index of `name` in the dataset's class list. */
  label: number;
}

/** One image of a loaded VOC dataset. */
export interface VocImage extends VocAnnotation {
  /** The image id: the image-set line, i.e. the annotation file name without `.xml`. */
  id: string;
  /** Absolute path of the image file (inside the dataset root). */
  imagePath: string;
  /** Absolute path of the annotation file it came from. */
  annotationPath: string;
  objects: VocLabeledObject[];
}

/** One detection of a VOC results file (`comp4_det_test_<class>.txt`). */
export interface VocDetection {
  /** The image id (first field of the line). */
  imageId: string;
  /** Class name (from the file name). */
  name: string;
  /** Confidence (second field). */
  score: number;
  /** `[x1, y1, x2, y2]` converted from the file's 1-based `xmin ymin xmax ymax`. */
  box: Box;
}

/** Converts VOC 1-based inclusive `xmin, ymin, xmax, ymax` to an internal box. */
export function vocToBox(xmin: number, ymin: number, xmax: number, ymax: number): Box {
  return [xmin - 1, ymin - 1, xmax, ymax];
}

/** Converts an internal box to VOC 1-based inclusive `[xmin, ymin, xmax, ymax]`. */
export function boxToVoc(box: readonly number[]): [number, number, number, number] {
  return [box[0] + 1, box[1] + 1, box[2], box[3]];
}
