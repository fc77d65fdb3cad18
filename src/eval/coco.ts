/**
 * COCO bounding-box evaluation with pycocotools' exact semantics (cocodataset/cocoapi
 * PythonAPI/pycocotools/cocoeval.py @ 8c9bcc3), on typed arrays.
 *
 * The reference's three stages are kept as pure functions:
 *   - {@link matchCell}: `evaluateImg` for one (image, category): greedy matching per area range
 *     and IoU threshold;
 *   - `accumulate` (coco-accumulate.ts): precision [T, R, K, A, M] and recall [T, K, A, M];
 *   - `summarize` (coco-summary.ts): the 12 stats and the per-category table.
 * `evaluateCoco` (coco-evaluator.ts) runs them over parsed records (never files).
 *
 * Shape letters: T IoU thresholds, R recall thresholds, K categories (ascending id), A area
 * ranges, M maxDets, I images (ascending id), N detections, G ground-truth boxes.
 * Per-detection outcomes are stored as one byte per (area, threshold, detection) rather than
 * pycocotools' per-image dicts, which is what makes a val2017-sized evaluation take seconds.
 */
import { UserError } from '../errors.ts';
import type { CocoDetections, CocoGroundTruth } from './coco-records.ts';
import { linspace, roundHalfEven } from './numpy.ts';
import { IdIndex } from './id-index.ts';
import { countingSortStable, iota, sortByValueDesc } from './sort.ts';

/** Evaluation parameters (pycocotools `Params(iouType='bbox')`). */
export interface CocoEvalParams {
  /** [T] IoU thresholds; a match needs IoU >= threshold. */
  iouThrs: number[];
  /** [R] recall thresholds at which precision is sampled. */
  recThrs: number[];
  /** [M] detections kept per image and category (values above 100 are fine); sorted ascending, as pycocotools does. */
  maxDets: number[];
  /** [A] inclusive [min, max] area ranges; GT by its `area` field, detections by w*h. */
  areaRng: Array<[number, number]>;
  /** [A] labels; the summary looks up 'all', 'small', 'medium', 'large'. */
  areaRngLbl: string[];
}

/**
 * pycocotools' defaults, thresholds built exactly as numpy does:
 * `np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1)` (its 9th value is
 * 0.8999999999999999) and `np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1)`.
 */
export const COCO_EVAL_DEFAULTS: Readonly<CocoEvalParams> = Object.freeze({
  iouThrs: linspace(0.5, 0.95, roundHalfEven((0.95 - 0.5) / 0.05) + 1),
  recThrs: linspace(0.0, 1.0, roundHalfEven((1.0 - 0.0) / 0.01) + 1),
  maxDets: [1, 10, 100],
  areaRng: [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]] as Array<[number, number]>,
  areaRngLbl: ['all', 'small', 'medium', 'large'],
});

/** Defaults merged with overrides, then validated (throws UserError naming the parameter). */
export function cocoEvalParams(overrides: Partial<CocoEvalParams> = {}): CocoEvalParams {
  const p: CocoEvalParams = {
    iouThrs: [...(overrides.iouThrs ?? COCO_EVAL_DEFAULTS.iouThrs)],
    recThrs: [...(overrides.recThrs ?? COCO_EVAL_DEFAULTS.recThrs)],
    maxDets: [...(overrides.maxDets ?? COCO_EVAL_DEFAULTS.maxDets)],
    areaRng: (overrides.areaRng ?? COCO_EVAL_DEFAULTS.areaRng).map((r) => [r[0], r[1]] as [number, number]),
    areaRngLbl: [...(overrides.areaRngLbl ?? COCO_EVAL_DEFAULTS.areaRngLbl)],
  };
  const bad = (name: string, what: string, got: unknown) => new UserError(`COCO eval params: ${name}: expected ${what}, got ${JSON.stringify(got)}`);
  const unit = (xs: number[]) => xs.length > 0 && xs.every((x) => Number.isFinite(x) && x >= 0 && x <= 1);
  if (!unit(p.iouThrs)) throw bad('iouThrs', 'a non-empty list of numbers in [0, 1]', p.iouThrs);
  if (!unit(p.recThrs)) throw bad('recThrs', 'a non-empty list of numbers in [0, 1]', p.recThrs);
  if (p.maxDets.length === 0 || !p.maxDets.every((m) => Number.isSafeInteger(m) && m > 0)) {
    throw bad('maxDets', 'a non-empty list of positive integers', p.maxDets);
  }
  // COCOeval.evaluate() sorts maxDets (it matches with maxDets[-1], then truncates to each).
  p.maxDets.sort((x, y) => x - y);
  if (p.areaRng.length === 0 || !p.areaRng.every((r) => r.length === 2 && !Number.isNaN(r[0]) && !Number.isNaN(r[1]) && r[0] <= r[1])) {
    throw bad('areaRng', 'a non-empty list of [min, max] pairs with min <= max', p.areaRng);
  }
  if (p.areaRngLbl.length !== p.areaRng.length) throw bad('areaRngLbl', `${p.areaRng.length} labels (one per area range)`, p.areaRngLbl);
  return p;
}

/** Outcome codes of one detection at one (area range, IoU threshold). */
export const FP = 0;
export const TP = 1;
/** Neither TP nor FP: matched a crowd / out-of-range GT, or unmatched and outside the range. */
export const IGNORED = 2;

/** One (image, category) cell's inputs to {@link matchCell}. */
export interface CellInput {
  /** number of detections (already sorted by descending score, cut to maxDets[-1]) */
  D: number;
  /** number of GT boxes (file order) */
  G: number;
  /** [D*G] row-major IoU of detection d with GT g */
  ious: Float64Array;
  /** [G] GT `area` fields */
  gtArea: Float64Array;
  /** [G] 1 for crowd GT */
  gtCrowd: Uint8Array;
  /** [G] 1 where the GT's annotation id is 0 (see matchCell) */
  gtIdZero: Uint8Array;
  /** [D] detection areas w*h */
  dtArea: Float64Array;
}

/** Scratch buffers for {@link matchCell}, reused across cells. */
export interface CellScratch {
  gtIgnore: Uint8Array;
  gtOrder: Int32Array;
  gtMatched: Uint8Array;
  /** [D] best IoU of each detection with any GT of the cell */
  dtMaxIou: Float64Array;
}

/** Scratch buffers able to hold `g` GT boxes and `d` detections. */
export function cellScratch(g: number, d = 1024): CellScratch {
  return { gtIgnore: new Uint8Array(g), gtOrder: new Int32Array(g), gtMatched: new Uint8Array(g), dtMaxIou: new Float64Array(d) };
}

/**
 * pycocotools' `evaluateImg` for one (image, category), every area range and IoU threshold.
 * Writes `out[(outPos[d]*A + a)*T + t]` = TP, FP or IGNORED for each detection d (layout
 * [N, A, T]: one detection's outcomes are adjacent, so each cell writes a few cache lines).
 *
 * Reference rules reproduced (cocoeval.py evaluateImg):
 *  - GT is ignored when crowd or its area field is outside [min, max] (both ends inclusive);
 *    GTs are visited non-ignored first (stable), detections in descending score;
 *  - the threshold is `min(t, 1 - 1e-10)` and a GT is taken when `iou >= best so far`, so the
 *    last of equal best IoUs wins;
 *  - an already matched non-crowd GT is skipped; once a non-ignored GT is matched, the scan
 *    stops at the first ignored GT; crowd GTs absorb any number of detections;
 *  - a matched detection inherits the GT's ignore flag; an unmatched one is ignored when its
 *    area is outside the range;
 *  - pycocotools records a match as the GT's annotation id and later tests it for truth, so a
 *    detection matched to a GT whose id is 0 counts as unmatched (FP, or ignored by area) while
 *    still consuming that GT. Real files never use id 0; the quirk is kept for exactness.
 */
export function matchCell(cell: CellInput, params: CocoEvalParams, out: Uint8Array, outPos: Int32Array, scratch: CellScratch): void {
  const { D, G, ious, gtArea, gtCrowd, gtIdZero, dtArea } = cell;
  const T = params.iouThrs.length;
  const A = params.areaRng.length;
  const { gtIgnore, gtOrder, gtMatched, dtMaxIou } = scratch;
  // A detection whose best IoU with any GT is below a threshold cannot match at it (every
  // candidate fails `iou >= thr`): most detections skip the GT scan entirely.
  for (let d = 0; d < D; d++) {
    let best = 0;
    for (let g = 0; g < G; g++) if (ious[d * G + g] > best) best = ious[d * G + g];
    dtMaxIou[d] = best;
  }
  for (let a = 0; a < params.areaRng.length; a++) {
    const lo = params.areaRng[a][0];
    const hi = params.areaRng[a][1];
    if (G === 0) {
      // No GT: every detection is unmatched at every threshold.
      for (let d = 0; d < D; d++) {
        const st = dtArea[d] < lo || dtArea[d] > hi ? IGNORED : FP;
        for (let t = 0; t < T; t++) out[(outPos[d] * A + a) * T + t] = st;
      }
      continue;
    }
    let n = 0;
    for (let g = 0; g < G; g++) {
      gtIgnore[g] = gtCrowd[g] || gtArea[g] < lo || gtArea[g] > hi ? 1 : 0;
      if (!gtIgnore[g]) gtOrder[n++] = g;
    }
    for (let g = 0; g < G; g++) if (gtIgnore[g]) gtOrder[n++] = g;
    for (let t = 0; t < T; t++) {
      const thr = Math.min(params.iouThrs[t], 1 - 1e-10);
      gtMatched.fill(0, 0, G);
      for (let d = 0; d < D; d++) {
        if (dtMaxIou[d] < thr) {
          out[(outPos[d] * A + a) * T + t] = dtArea[d] < lo || dtArea[d] > hi ? IGNORED : FP;
          continue;
        }
        let best = thr;
        let m = -1;
        const row = d * G;
        for (let j = 0; j < G; j++) {
          const g = gtOrder[j];
          if (gtMatched[g] && !gtCrowd[g]) continue;
          if (m > -1 && !gtIgnore[m] && gtIgnore[g]) break;
          const v = ious[row + g];
          if (v < best) continue;
          best = v;
          m = g;
        }
        const areaOut = dtArea[d] < lo || dtArea[d] > hi;
        let state: number;
        if (m === -1) {
          state = areaOut ? IGNORED : FP;
        } else {
          gtMatched[m] = 1;
          const idZero = gtIdZero[m] === 1;
          state = gtIgnore[m] || (idZero && areaOut) ? IGNORED : idZero ? FP : TP;
        }
        out[(outPos[d] * A + a) * T + t] = state;
      }
    }
  }
}

/**
 * IoU of COCO [x, y, w, h] boxes exactly as pycocotools' C `bbIou` computes it (no +1; a crowd
 * GT's union is the detection's area alone).
 * @param dt [N*4] detection xywh, rows `dRows`
 * @param gt [G*4] GT xywh, rows `gRows`
 * @param out [D*G] written row-major
 */
export function boxIouXywh(dt: Float64Array, dRows: Int32Array, D: number, gt: Float64Array, gRows: Int32Array, gCrowd: Uint8Array, G: number, out: Float64Array): void {
  for (let d = 0; d < D; d++) {
    const o = 4 * dRows[d];
    const dx = dt[o], dy = dt[o + 1], dw = dt[o + 2], dh = dt[o + 3];
    const da = dw * dh;
    for (let g = 0; g < G; g++) {
      const q = 4 * gRows[g];
      const gx = gt[q], gy = gt[q + 1], gw = gt[q + 2], gh = gt[q + 3];
      let v = 0;
      const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
      if (w > 0) {
        const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
        if (h > 0) {
          const i = w * h;
          const u = gCrowd[g] ? da : da + gw * gh - i;
          v = i / u;
        }
      }
      out[d * G + g] = v;
    }
  }
}

/** Per-detection outcomes of every cell, laid out for `accumulate` (coco-accumulate.ts). */
export interface CocoMatches {
  /** [K] category ids ascending (pycocotools `params.catIds = sorted(getCatIds())`) */
  catIds: number[];
  /** [I] image ids ascending */
  imgIds: number[];
  /** number of detections that belong to a known image and category */
  N: number;
  /** [K+1] detections of category k lie at positions catStart[k]..catStart[k+1] */
  catStart: Int32Array;
  /**
   * [N] position -> rank of the detection within its (image, category) by descending score
   * (file order among ties); positions run in pycocotools' accumulate order within a category:
   * descending score, then ascending image id, then file order.
   */
  rank: Int32Array;
  /** [N*A*T] outcome (FP / TP / IGNORED) of the detection at each position (layout [N, A, T]), for ranks < maxDets[-1] */
  state: Uint8Array;
  /** [K*A] non-ignored GT count (pycocotools `npig`) */
  npig: Int32Array;
  /**
   * [N] 1 where the detection can match no GT at any threshold (no GT of its class in the image,
   * or every IoU below the smallest threshold): its outcome is then FP inside each area range and
   * IGNORED outside at every threshold, which `accumulate` counts without reading `state`.
   */
  unmatched: Uint8Array;
  /** [N] detection areas w*h, by position */
  area: Float64Array;
}

/**
 * Runs {@link matchCell} over every (image, category) that has GT or detections: pycocotools'
 * `evaluate()` on parsed records.
 * @param gt the ground truth (every image and category in it is evaluated)
 * @param dets detections; ids not in `gt` must have been rejected (checkDetectionsAgainstGt)
 */
export function matchAll(gt: CocoGroundTruth, dets: CocoDetections, params: CocoEvalParams): CocoMatches {
  const imgIds = gt.images.map((im) => im.id).sort((x, y) => x - y);
  const catIds = gt.categories.map((c) => c.id).sort((x, y) => x - y);
  const I = imgIds.length, K = catIds.length, A = params.areaRng.length, T = params.iouThrs.length;
  const imgIndex = new IdIndex(imgIds);
  const catIndex = new IdIndex(catIds);
  const maxDetLast = params.maxDets[params.maxDets.length - 1];

  // Ground truth as typed arrays, grouped by (category, image), file order within a cell.
  const nG = gt.annotations.length;
  const gImg = new Int32Array(nG), gCat = new Int32Array(nG);
  const gXywh = new Float64Array(4 * nG), gArea = new Float64Array(nG);
  const gCrowd = new Uint8Array(nG), gIdZero = new Uint8Array(nG);
  const npig = new Int32Array(K * A);
  gt.annotations.forEach((g, i) => {
    gImg[i] = imgIndex.get(g.imageId);
    gCat[i] = catIndex.get(g.categoryId);
    if (gImg[i] < 0 || gCat[i] < 0) throw new UserError(`${gt.file}: annotations[${i}]: image or category not in the file`);
    gXywh.set(g.xywh, 4 * i);
    gArea[i] = g.area;
    gCrowd[i] = g.iscrowd ? 1 : 0;
    gIdZero[i] = g.id === 0 ? 1 : 0;
    for (let a = 0; a < A; a++) {
      if (!g.iscrowd && g.area >= params.areaRng[a][0] && g.area <= params.areaRng[a][1]) npig[gCat[i] * A + a]++;
    }
  });
  const gOrder = countingSortStable(countingSortStable(iota(nG), gImg, I), gCat, K);

  // Detections: positions in accumulate order (category, -score, image, file), then the same
  // detections regrouped by (category, image) for matching.
  const nAll = dets.count;
  const dImg = new Int32Array(nAll), dCat = new Int32Array(nAll);
  for (let i = 0; i < nAll; i++) {
    dImg[i] = imgIndex.get(dets.imageId[i]);
    dCat[i] = catIndex.get(dets.categoryId[i]);
    if (dImg[i] < 0 || dCat[i] < 0) throw new UserError(`detections[${i}]: image_id ${dets.imageId[i]} or category_id ${dets.categoryId[i]} is not in ${gt.file}`);
  }
  const order = countingSortStable(sortByValueDesc(countingSortStable(iota(nAll), dImg, I), dets.score), dCat, K);
  const N = nAll;
  const pos = new Int32Array(N);
  for (let p = 0; p < N; p++) pos[order[p]] = p;
  const catStart = new Int32Array(K + 1);
  for (let i = 0; i < N; i++) catStart[dCat[i] + 1]++;
  for (let k = 0; k < K; k++) catStart[k + 1] += catStart[k];
  const cells = countingSortStable(countingSortStable(order, dImg, I), dCat, K);
  // cell key k * I + i of each detection / GT (doubles: K * I may pass 2^31)
  const dKeyOf = new Float64Array(N);
  for (let i = 0; i < N; i++) dKeyOf[i] = dCat[i] * I + dImg[i];
  const gKeyOf = new Float64Array(nG);
  for (let i = 0; i < nG; i++) gKeyOf[i] = gCat[i] * I + gImg[i];

  const rank = new Int32Array(N);
  const unmatched = new Uint8Array(N);
  const area = new Float64Array(N);
  let minThr = Infinity;
  for (const t of params.iouThrs) minThr = Math.min(minThr, t, 1 - 1e-10);
  const state = new Uint8Array(A * T * N);
  let ious = new Float64Array(1024);
  let scratch = cellScratch(64);
  const cellG = { area: new Float64Array(64), crowd: new Uint8Array(64), idZero: new Uint8Array(64), rows: new Int32Array(64) };
  let cellD = { area: new Float64Array(1024), rows: new Int32Array(1024), pos: new Int32Array(1024) };
  const cell: CellInput = { D: 0, G: 0, ious, gtArea: cellG.area, gtCrowd: cellG.crowd, gtIdZero: cellG.idZero, dtArea: cellD.area };

  // Walk the GT cells and detection cells together, both sorted by key = k * I + i.
  let gi = 0, di = 0;
  while (gi < nG || di < N) {
    const gKey = gi < nG ? gKeyOf[gOrder[gi]] : Infinity;
    const dKey = di < N ? dKeyOf[cells[di]] : Infinity;
    const key = Math.min(gKey, dKey);
    let G = 0;
    while (gi < nG && gKeyOf[gOrder[gi]] === key) {
      if (G === cellG.rows.length) growCellG(cellG);
      cellG.rows[G++] = gOrder[gi++];
    }
    let D = 0;
    let r = 0;
    while (di < N && dKeyOf[cells[di]] === key) {
      const e = cells[di++];
      rank[pos[e]] = r;
      if (r < maxDetLast) {
        if (D === cellD.rows.length) cellD = growCellD(cellD);
        cellD.rows[D] = e;
        cellD.pos[D] = pos[e];
        cellD.area[D] = dets.xywh[4 * e + 2] * dets.xywh[4 * e + 3]; // loadRes: area = w*h
        D++;
      }
      r++;
    }
    if (D === 0) continue;
    for (let g = 0; g < G; g++) {
      const e = cellG.rows[g];
      cellG.area[g] = gArea[e];
      cellG.crowd[g] = gCrowd[e];
      cellG.idZero[g] = gIdZero[e];
    }
    if (D * G > ious.length) ious = new Float64Array(2 * D * G);
    if (G > scratch.gtOrder.length || D > scratch.dtMaxIou.length) scratch = cellScratch(Math.max(2 * G, scratch.gtOrder.length), Math.max(2 * D, scratch.dtMaxIou.length));
    boxIouXywh(dets.xywh, cellD.rows, D, gXywh, cellG.rows, cellG.crowd, G, ious);
    cell.D = D;
    cell.G = G;
    cell.ious = ious;
    cell.gtArea = cellG.area;
    cell.gtCrowd = cellG.crowd;
    cell.gtIdZero = cellG.idZero;
    cell.dtArea = cellD.area;
    matchCell(cell, params, state, cellD.pos, scratch);
    for (let d = 0; d < D; d++) {
      area[cellD.pos[d]] = cellD.area[d];
      unmatched[cellD.pos[d]] = G === 0 || scratch.dtMaxIou[d] < minThr ? 1 : 0;
    }
  }
  return { catIds, imgIds, N, catStart, rank, state, npig, unmatched, area };
}

function growCellG(c: { area: Float64Array; crowd: Uint8Array; idZero: Uint8Array; rows: Int32Array }): void {
  const n = 2 * c.rows.length;
  const area = new Float64Array(n), crowd = new Uint8Array(n), idZero = new Uint8Array(n), rows = new Int32Array(n);
  rows.set(c.rows);
  Object.assign(c, { area, crowd, idZero, rows });
}

function growCellD(c: { area: Float64Array; rows: Int32Array; pos: Int32Array }) {
  const n = 2 * c.rows.length;
  const out = { area: new Float64Array(n), rows: new Int32Array(n), pos: new Int32Array(n) };
  out.area.set(c.area);
  out.rows.set(c.rows);
  out.pos.set(c.pos);
  return out;
}
