/**
 * Detection records: one plain record per image, the same for VOC and COCO sources, in resdet's
 * box convention (`[x1, y1, x2, y2]` absolute pixels, datasets/voc/records.ts). The loaders'
 * own records stay reachable (`source`) so evaluators take them as they are and never re-read
 * files (STYLE.md habit 8).
 *
 * Shape letters: G = ground-truth objects of an image.
 */
import { inputError, quote } from '../../src/errors.ts';
import type { CocoInstances } from '../coco/annotations.ts';
import type { VocDataset } from '../voc/devkit.ts';

/** One image and its objects. */
export interface DetectionRecord {
  /** image id as the dataset's results format names it (VOC id `000005`; COCO id as a string) */
  id: string;
  /** COCO's numeric image id (COCO sources only) */
  cocoId?: number;
  imagePath: string;
  /** the annotation file the record came from (for error messages) */
  annotationFile: string;
  width: number;
  height: number;
  /** [G * 4] xyxy */
  boxes: Float32Array;
  /** [G] 0-based class index into the set's `classes` */
  labels: Int32Array;
  /**
   * [G] 1 for objects that training leaves out: VOC `difficult` (py-faster-rcnn trains with
   * `use_diff = False`) and COCO crowd regions (detectron2 drops `iscrowd` boxes); the
   * evaluators handle them with their own rules.
   */
  ignore: Uint8Array;
  /**
   * the record's size and boxes are those of the image with its EXIF orientation applied, as
   * browsers and photo viewers show it, and decoders apply it (`resdet detect` on image files).
   * Dataset records leave it unset: their annotations give the stored pixels' size and
   * coordinates, as the reference tools read them.
   */
  autoOrient?: boolean;
}

/** A loaded detection set. */
export interface DetectionSet {
  format: 'voc' | 'coco';
  /** class names; label `i` is `classes[i]` (no background entry) */
  classes: string[];
  records: DetectionRecord[];
  /** what the records were read from, for the evaluators */
  source: { voc?: VocDataset[]; coco?: CocoInstances };
  /** human-readable description, e.g. `VOC2007 test (4952 images)` */
  description: string;
}

/** Records of a VOC dataset (boxes already xyxy: x1 = xmin - 1). */
export function recordsFromVoc(ds: VocDataset): DetectionRecord[] {
  return ds.images.map((im) => ({
    id: im.id,
    imagePath: im.imagePath,
    annotationFile: im.annotationPath,
    width: im.width,
    height: im.height,
    boxes: Float32Array.from(im.objects.flatMap((o) => o.box)),
    labels: Int32Array.from(im.objects.map((o) => o.label)),
    ignore: Uint8Array.from(im.objects.map((o) => (o.difficult ? 1 : 0))),
  }));
}

/**
 * Records of a COCO instances file. Labels are the categories' positions in `categories`
 * sorted by id (COCO's 80 classes with ids 1..90 become labels 0..79).
 * @param imagePathOf resolves an image record to its file (kept inside the image root)
 */
export function recordsFromCoco(inst: CocoInstances, imagePathOf: (index: number) => string): { classes: string[]; records: DetectionRecord[] } {
  const cats = [...inst.categories].sort((a, b) => a.id - b.id);
  const labelOf = new Map(cats.map((c, i) => [c.id, i]));
  const records = inst.images.map((im, i): DetectionRecord => {
    const anns = inst.annotationsByImage.get(im.id) ?? [];
    return {
      id: String(im.id),
      cocoId: im.id,
      imagePath: imagePathOf(i),
      annotationFile: inst.file,
      width: im.width,
      height: im.height,
      boxes: Float32Array.from(anns.flatMap((a) => a.box)),
      labels: Int32Array.from(anns.map((a) => labelOf.get(a.categoryId)!)),
      ignore: Uint8Array.from(anns.map((a) => (a.iscrowd ? 1 : 0))),
    };
  });
  return { classes: cats.map((c) => c.name), records };
}

/** Objects kept for training, in image pixels. */
export interface TrainingObjects {
  /** [G' * 4] xyxy, clipped to the image */
  boxes: Float32Array;
  /** [G'] */
  labels: Int32Array;
  /** objects dropped as degenerate (under `minSize` pixels wide or high after clipping) */
  dropped: number;
}

/**
 * The objects a detector trains on: ignored objects (difficult / crowd) left out, boxes clipped
 * to the image, and boxes thinner than `minSize` pixels after clipping either dropped (counted:
 * COCO has a few zero-width boxes, detectron2 filters them the same way) or, with
 * `degenerate: 'error'`, reported as `<file>: object[k].box: expected ...`.
 */
export function trainingObjects(r: DetectionRecord, degenerate: 'drop' | 'error' = 'drop', minSize = 1): TrainingObjects {
  const boxes: number[] = [];
  const labels: number[] = [];
  let dropped = 0;
  for (let k = 0; k < r.labels.length; k++) {
    if (r.ignore[k]) continue;
    const x1 = Math.min(Math.max(r.boxes[4 * k], 0), r.width);
    const y1 = Math.min(Math.max(r.boxes[4 * k + 1], 0), r.height);
    const x2 = Math.min(Math.max(r.boxes[4 * k + 2], 0), r.width);
    const y2 = Math.min(Math.max(r.boxes[4 * k + 3], 0), r.height);
    if (!(x2 - x1 >= minSize && y2 - y1 >= minSize)) {
      if (degenerate === 'error') {
        throw inputError(r.annotationFile, `image[${r.id}].object[${k}].box`, `expected a box at least ${minSize} pixel wide and high inside the ${r.width}x${r.height} image, got ${quote(Array.from(r.boxes.subarray(4 * k, 4 * k + 4)))}`);
      }
      dropped++;
      continue;
    }
    boxes.push(x1, y1, x2, y2);
    labels.push(r.labels[k]);
  }
  return { boxes: Float32Array.from(boxes), labels: Int32Array.from(labels), dropped };
}
