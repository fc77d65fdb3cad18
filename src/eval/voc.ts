/**
 * PASCAL VOC detection metric (mAP at IoU 0.5) with the exact semantics of the classic
 * `voc_eval()` (py-faster-rcnn `lib/datasets/voc_eval.py`, as carried by detectron2
 * `evaluation/pascal_voc_evaluation.py`); ../shared/eval-golden/README.md lists the rules:
 *
 * - IoU with the "+1 pixel" widths (`xmax - xmin + 1`), a match needs IoU > 0.5 (strict).
 * - Each detection, in descending score, takes the argmax-IoU GT of its class and image over
 *   *all* of them (difficult and already matched included; ties go to the first in file order).
 *   Difficult argmax: ignored (neither TP nor FP). Already matched: FP. `npos` counts
 *   non-difficult GT only.
 * - VOC2007 11-point AP (thresholds `np.arange(0, 1.1, 0.1)`, so the "0.3" point is
 *   0.30000000000000004) and the VOC2010+ area AP (precision envelope, sum over recall steps,
 *   summed with numpy's pairwise summation, ./numpy.ts).
 * - mAP is the mean over the whole class list; a class with no GT and no detections has AP 0.
 *   A class with detections but no non-difficult GT has recall 0/0: its area AP is NaN, as in
 *   the reference (its 11-point AP is 0).
 *
 * Inputs are the records the VOC loaders return (datasets/voc): boxes `[x1, y1, x2, y2]` with
 * x1 = xmin - 1, x2 = xmax. Nothing is re-read from disk. Ties in score keep input order (the
 * reference's unstable argsort leaves them implementation-defined).
 */
import { inputError, quote } from '../errors.ts';
import { npMean, pairwiseSum } from './numpy.ts';

/** A ground-truth image as the VOC loader returns it (only the fields the metric reads). */
export interface VocGtImage {
  id: string;
  objects: ReadonlyArray<{ name: string; box: ArrayLike<number>; difficult: boolean }>;
}

/** A detection as the VOC results reader returns it. `box` is `[x1, y1, x2, y2]`. */
export interface VocDet {
  imageId: string;
  name: string;
  score: number;
  box: ArrayLike<number>;
}

/** Options of {@link VocEvaluator}. */
export interface VocEvalOptions {
  /** The class list; mAP is the mean over all of it. */
  classes: readonly string[];
  /** Overlap a match must exceed (strictly). Default 0.5. */
  iouThreshold?: number;
}

/** One class's result. */
export interface VocClassResult {
  name: string;
  /** Non-difficult GT count. */
  npos: number;
  numDifficult: number;
  numDets: number;
  /** VOC2007 11-point AP. */
  ap07: number;
  /** VOC2010+ area AP (NaN when the class has detections but npos = 0, as the reference). */
  apArea: number;
}

/** The result of {@link VocEvaluator.evaluate}. */
export interface VocEvalResult {
  classes: string[];
  perClass: VocClassResult[];
  ap07: Record<string, number>;
  apArea: Record<string, number>;
  mAP07: number;
  mAPArea: number;
}

/** `np.arange(0., 1.1, 0.1)`: start + i * step, so 3 * 0.1 = 0.30000000000000004. */
export const VOC07_RECALL_THRESHOLDS: Float64Array = Float64Array.from({ length: 11 }, (_, i) => i * 0.1);

/**
 * Average precision from a recall/precision curve, as voc_eval's `voc_ap(rec, prec, use_07_metric)`.
 * @param rec [D] recall after each detection (non-decreasing)
 * @param prec [D] precision after each detection
 * @param use07 true: VOC2007 11-point interpolation; false: VOC2010+ area under the envelope
 */
export function vocAp(rec: ArrayLike<number>, prec: ArrayLike<number>, use07: boolean): number {
  const n = rec.length;
  if (use07) {
    let ap = 0;
    for (const t of VOC07_RECALL_THRESHOLDS) {
      // p = max(prec[rec >= t]), 0 when no recall reaches t (NaN recalls never do).
      let p = 0;
      let any = false;
      for (let i = 0; i < n; i++) {
        if (rec[i] >= t && (!any || prec[i] > p)) { p = prec[i]; any = true; }
      }
      ap = ap + p / 11.0;
    }
    return ap;
  }
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  for (let i = 0; i < n; i++) { mrec[i + 1] = rec[i]; mpre[i + 1] = prec[i]; }
  mrec[n + 1] = 1;
  for (let i = n + 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1], mpre[i]);
  // Sum (mrec[i+1] - mrec[i]) * mpre[i+1] where recall changes (NaN != NaN counts as a change).
  const terms = new Float64Array(n + 1);
  let k = 0;
  for (let i = 0; i <= n; i++) {
    if (mrec[i + 1] !== mrec[i]) terms[k++] = (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  }
  return 0 + pairwiseSum(terms, 0, k); // np.sum: the identity 0 plus numpy's pairwise sum
}

/**
 * voc_eval's overlap of GT `j` of `gt` (flat [G*4] internal boxes) with one detection, in the
 * reference's operation order on its 1-based values: `xmin = x1 + 1` restores the file's value
 * exactly (records.ts), so this is bit-identical to voc_eval, then widths are `xmax - xmin + 1`.
 */
function overlapAt(gt: ArrayLike<number>, j: number, bxmin: number, bymin: number, bxmax: number, bymax: number, bArea: number): number {
  const gxmin = gt[4 * j] + 1;
  const gymin = gt[4 * j + 1] + 1;
  const gxmax = gt[4 * j + 2];
  const gymax = gt[4 * j + 3];
  const iw = Math.max(Math.min(gxmax, bxmax) - Math.max(gxmin, bxmin) + 1.0, 0.0);
  const ih = Math.max(Math.min(gymax, bymax) - Math.max(gymin, bymin) + 1.0, 0.0);
  const inters = iw * ih;
  const uni = bArea + (gxmax - gxmin + 1.0) * (gymax - gymin + 1.0) - inters;
  return inters / uni;
}

/**
 * IoU of two internal boxes exactly as voc_eval computes it (+1 pixel widths on the 1-based
 * values; equal to the plain `x2 - x1` IoU up to rounding).
 * @param gt [4] `[x1, y1, x2, y2]`
 * @param det [4] `[x1, y1, x2, y2]`
 */
export function vocIou(gt: ArrayLike<number>, det: ArrayLike<number>): number {
  const [bxmin, bymin, bxmax, bymax] = [det[0] + 1, det[1] + 1, det[2], det[3]];
  return overlapAt(gt, 0, bxmin, bymin, bxmax, bymax, (bxmax - bxmin + 1.0) * (bymax - bymin + 1.0));
}

/** One class's GT in CSR form over images: GTs of image `i` are `offsets[i] .. offsets[i+1]`. */
export interface VocClassGt {
  /** [I + 1] */
  offsets: Int32Array;
  /** [G * 4] internal boxes */
  boxes: Float64Array;
  /** [G] 1 = difficult */
  difficult: Uint8Array;
}

/** One class's detections. */
export interface VocClassDets {
  /** [D] image index into the GT's images */
  image: Int32Array;
  /** [D] */
  scores: Float64Array;
  /** [D * 4] internal boxes */
  boxes: Float64Array;
}

/**
 * voc_eval for one class: match detections to GT, then both APs.
 * @returns npos (non-difficult GT), numDifficult, numDets, ap07, apArea, and the curve
 */
export function evalVocClass(gt: VocClassGt, dets: VocClassDets, iouThreshold = 0.5): Omit<VocClassResult, 'name'> & { rec: Float64Array; prec: Float64Array } {
  const nd = dets.scores.length;
  let numDifficult = 0;
  for (const d of gt.difficult) numDifficult += d;
  const npos = gt.difficult.length - numDifficult;
  const order = new Uint32Array(nd);
  for (let i = 0; i < nd; i++) order[i] = i;
  const s = dets.scores;
  order.sort((a, b) => (s[b] - s[a]) || (a - b)); // descending score, ties in input order
  const matched = new Uint8Array(gt.difficult.length);
  const tp = new Float64Array(nd);
  const fp = new Float64Array(nd);
  let ctp = 0;
  let cfp = 0;
  for (let d = 0; d < nd; d++) {
    const k = order[d];
    const b = dets.boxes;
    const bxmin = b[4 * k] + 1;
    const bymin = b[4 * k + 1] + 1;
    const bxmax = b[4 * k + 2];
    const bymax = b[4 * k + 3];
    const bArea = (bxmax - bxmin + 1.0) * (bymax - bymin + 1.0);
    const img = dets.image[k];
    let ovmax = -Infinity;
    let jmax = -1;
    for (let j = gt.offsets[img]; j < gt.offsets[img + 1]; j++) {
      const ov = overlapAt(gt.boxes, j, bxmin, bymin, bxmax, bymax, bArea);
      if (ov > ovmax) { ovmax = ov; jmax = j; } // first of equal maxima, as np.argmax
    }
    if (ovmax > iouThreshold) {
      if (!gt.difficult[jmax]) {
        if (!matched[jmax]) { ctp += 1; matched[jmax] = 1; } else cfp += 1;
      }
    } else cfp += 1;
    tp[d] = ctp;
    fp[d] = cfp;
  }
  const rec = new Float64Array(nd);
  const prec = new Float64Array(nd);
  for (let d = 0; d < nd; d++) {
    rec[d] = tp[d] / npos;
    prec[d] = tp[d] / Math.max(tp[d] + fp[d], Number.EPSILON);
  }
  return { npos, numDifficult, numDets: nd, ap07: vocAp(rec, prec, true), apArea: vocAp(rec, prec, false), rec, prec };
}

/** One class's result with its precision-recall curve (for plots, src/eval/pr-curves.ts). */
export interface VocClassCurve extends VocClassResult {
  /** [D] recall after each detection in descending score (NaN when npos = 0) */
  rec: Float64Array;
  /** [D] precision after each detection */
  prec: Float64Array;
}

/** Growable per-class detection store (plain arrays; packed doubles in V8). */
interface DetStore { image: number[]; scores: number[]; boxes: number[] }

/**
 * The VOC evaluator over loader records, detectron2-style: build it once from the GT images,
 * then `reset()`, `process()` detections (any number of calls), `evaluate()`.
 */
export class VocEvaluator {
  readonly classes: readonly string[];
  readonly iouThreshold: number;
  private readonly imageIndex = new Map<string, number>();
  private readonly classIndex: Map<string, number>;
  private readonly gt: VocClassGt[];
  private dets: DetStore[] = [];

  /**
   * @param images the GT records (datasets/voc `VocImage`s, or anything with id and objects);
   *   objects of classes outside `opts.classes` are ignored, as voc_eval does
   */
  constructor(images: readonly VocGtImage[], opts: VocEvalOptions) {
    this.classes = [...opts.classes];
    this.iouThreshold = opts.iouThreshold ?? 0.5;
    this.classIndex = new Map(this.classes.map((c, i) => [c, i]));
    images.forEach((im, i) => {
      if (this.imageIndex.has(im.id)) throw inputError('ground truth', `images[${i}].id`, `duplicate image id ${quote(im.id)}`);
      this.imageIndex.set(im.id, i);
    });
    const counts = this.classes.map(() => new Int32Array(images.length + 1));
    for (const [i, im] of images.entries()) {
      for (const o of im.objects) {
        const c = this.classIndex.get(o.name);
        if (c !== undefined) counts[c][i + 1]++;
      }
    }
    this.gt = counts.map((offsets) => {
      for (let i = 0; i < images.length; i++) offsets[i + 1] += offsets[i];
      const n = offsets[images.length];
      return { offsets, boxes: new Float64Array(4 * n), difficult: new Uint8Array(n) };
    });
    const fill = this.gt.map((g) => g.offsets.slice(0, images.length));
    for (const [i, im] of images.entries()) {
      for (const o of im.objects) {
        const c = this.classIndex.get(o.name);
        if (c === undefined) continue;
        const j = fill[c][i]++;
        for (let q = 0; q < 4; q++) this.gt[c].boxes[4 * j + q] = o.box[q];
        this.gt[c].difficult[j] = o.difficult ? 1 : 0;
      }
    }
    this.reset();
  }

  /** Forgets all processed detections. */
  reset(): void {
    this.dets = this.classes.map(() => ({ image: [], scores: [], boxes: [] }));
  }

  /**
   * Adds detections.
   * @param dets detections with `imageId` among the GT images and `name` in the class list
   * @param source name used in error messages
   * @throws UserError for an unknown image id or class, or a non-finite score or box
   */
  process(dets: readonly VocDet[], source = 'detections'): void {
    for (let i = 0; i < dets.length; i++) {
      const d = dets[i];
      const img = this.imageIndex.get(d.imageId);
      if (img === undefined) throw inputError(source, `[${i}].imageId`, `expected an image id of the ground truth, got ${quote(d.imageId)}`);
      const c = this.classIndex.get(d.name);
      if (c === undefined) throw inputError(source, `[${i}].name`, `expected one of the classes, got ${quote(d.name)}`);
      if (!Number.isFinite(d.score)) throw inputError(source, `[${i}].score`, `expected a finite number, got ${quote(d.score)}`);
      const b = d.box;
      if (!(b[2] > b[0] && b[3] > b[1]) || !Number.isFinite(b[0] + b[1] + b[2] + b[3])) {
        throw inputError(source, `[${i}].box`, `expected finite [x1, y1, x2, y2] with x2 > x1, y2 > y1, got ${quote(Array.from(b))}`);
      }
      const s = this.dets[c];
      s.image.push(img);
      s.scores.push(d.score);
      s.boxes.push(b[0], b[1], b[2], b[3]);
    }
  }

  /** Every class's result and its raw curve (voc_eval's `rec`, `prec`), in class-list order. */
  curves(): VocClassCurve[] {
    return this.classes.map((name, c) => {
      const s = this.dets[c];
      const r = evalVocClass(this.gt[c], {
        image: Int32Array.from(s.image), scores: Float64Array.from(s.scores), boxes: Float64Array.from(s.boxes),
      }, this.iouThreshold);
      return { name, ...r };
    });
  }

  /** Per-class APs (both metrics) and their means over the whole class list. */
  evaluate(): VocEvalResult {
    const perClass = this.curves().map(({ name, npos, numDifficult, numDets, ap07, apArea }): VocClassResult => ({ name, npos, numDifficult, numDets, ap07, apArea }));
    const k = perClass.length;
    return {
      classes: [...this.classes],
      perClass,
      ap07: Object.fromEntries(perClass.map((r) => [r.name, r.ap07])),
      apArea: Object.fromEntries(perClass.map((r) => [r.name, r.apArea])),
      mAP07: npMean(perClass.map((r) => r.ap07), k),
      mAPArea: npMean(perClass.map((r) => r.apArea), k),
    };
  }
}

/**
 * Classes of a result with no ground-truth object at all (difficult ones included): their AP
 * is 0 (NaN for the area AP when they have detections) and still counts in the mAP, which is
 * what a misspelt class name looks like.
 */
export function classesWithoutGt(r: VocEvalResult): string[] {
  return r.perClass.filter((c) => c.npos + c.numDifficult === 0).map((c) => c.name);
}
