/**
 * COCO bounding-box evaluation with pycocotools' exact semantics (cocodataset/cocoapi
 * PythonAPI/pycocotools/cocoeval.py @ 8c9bcc3), on typed arrays.
 *
 * The reference's three stages are kept as pure functions:
 *   - {@link matchCell}: `evaluateImg` for one (image, category): greedy matching per area range
 *     and IoU threshold;
 *   - {@link accumulate}: precision [T, R, K, A, M] and recall [T, K, A, M];
 *   - `summarize` (coco-summary.ts): the 12 stats and the per-category table.
 * {@link evaluateCoco} runs them over parsed records (never files).
 *
 * Shape letters: T IoU thresholds, R recall thresholds, K categories (ascending id), A area
 * ranges, M maxDets, I images (ascending id), N detections, G ground-truth boxes.
 * Per-detection outcomes are stored as one byte per (area, threshold, detection) rather than
 * pycocotools' per-image dicts, which is what makes a val2017-sized evaluation take seconds.
 */
import { UserError } from '../errors.ts';
import type { CocoInstances } from '../../datasets/coco/annotations.ts';
import type { CocoDetections } from '../../datasets/coco/results.ts';
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

/** Per-detection outcomes of every cell, laid out for {@link accumulate}. */
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
   * IGNORED outside at every threshold, which {@link accumulate} counts without reading `state`.
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
export function matchAll(gt: CocoInstances, dets: CocoDetections, params: CocoEvalParams): CocoMatches {
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

/** pycocotools' `eval` arrays. */
export interface CocoAccumulated {
  T: number; R: number; K: number; A: number; M: number;
  /** [T, R, K, A, M] row-major; -1 where a category has no non-ignored GT for that area range */
  precision: Float64Array;
  /** [T, K, A, M] row-major; -1 likewise */
  recall: Float64Array;
}

/** Running counts of one category's detections, per (area, threshold) column. */
interface ColumnCounts {
  /** [AT] TPs so far */
  tpCount: Int32Array;
  /** [AT] FPs so far among detections that could match */
  fpCount: Int32Array;
  /** [A] FPs so far among detections that could match nothing (see CocoMatches.unmatched) */
  unmatchedFp: Int32Array;
  /** [group*maxNk] recall at each TP of each column of the group */
  tpRc: Float64Array;
  /** [group*maxNk] precision at each TP (pycocotools `tp / (fp + tp + eps)`) */
  env: Float64Array;
}

/**
 * The cumulative TP/FP walk of pycocotools' accumulate over detections `sel[0..nd)` (positions
 * in accumulate order) for columns g0..g1, recording pr and rc at each TP. Its own function so
 * that V8 optimises it after a few calls instead of running a long first call interpreted.
 */
function countColumns(m: CocoMatches, sel: Int32Array, nd: number, AT: number, g0: number, g1: number, maxNk: number,
  npOf: Float64Array, colArea: Int32Array, areaLo: Float64Array, areaHi: Float64Array, c: ColumnCounts): void {
  const { state, unmatched, area } = m;
  const { tpCount, fpCount, unmatchedFp, tpRc, env } = c;
  const A = areaLo.length;
  tpCount.fill(0);
  fpCount.fill(0);
  unmatchedFp.fill(0);
  for (let i = 0; i < nd; i++) {
    const p = sel[i];
    if (unmatched[p]) {
      const ar = area[p];
      for (let a = 0; a < A; a++) if (ar >= areaLo[a] && ar <= areaHi[a]) unmatchedFp[a]++;
      continue;
    }
    const row = p * AT;
    for (let at = g0; at < g1; at++) {
      const s = state[row + at];
      if (s === TP) {
        const tp = ++tpCount[at];
        const j = (at - g0) * maxNk + tp - 1;
        tpRc[j] = tp / npOf[at];
        env[j] = tp / (fpCount[at] + unmatchedFp[colArea[at]] + tp + EPS);
      } else if (s === FP) {
        fpCount[at]++;
      }
    }
  }
}

/**
 * pycocotools' `q` for one column: precision at each recall threshold. `env[off..off+tp)` holds
 * pr at the column's TPs (made monotone here, from the right) and `tpRc` their recalls.
 * `searchsorted(rc, recThrs[r], 'left')` over all detections lands on position 0 when
 * rc[0] >= v, otherwise on the first TP whose recall reaches v; past the end, q stays 0 from
 * there on (pycocotools' try/except).
 */
function sampleEnvelope(env: Float64Array, tpRc: Float64Array, off: number, tp: number, nd: number, firstIsTp: boolean, recThrs: number[], recSorted: boolean, q: Float64Array): void {
  const pr0 = firstIsTp ? env[off] : 0; // pr[0] = 0 when the first detection is FP or ignored
  const rc0 = firstIsTp ? tpRc[off] : 0;
  for (let j = off + tp - 2; j >= off; j--) if (env[j + 1] > env[j]) env[j] = env[j + 1];
  q.fill(0);
  let lo = 0;
  for (let r = 0; r < recThrs.length; r++) {
    const v = recThrs[r];
    if (nd > 0 && rc0 >= v) {
      q[r] = tp > 0 ? Math.max(pr0, env[off]) : pr0;
      continue;
    }
    if (recSorted) {
      while (lo < tp && tpRc[off + lo] < v) lo++;
    } else {
      lo = 0;
      let hi = tp;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (tpRc[off + mid] < v) lo = mid + 1;
        else hi = mid;
      }
    }
    if (lo >= tp) return;
    q[r] = env[off + lo];
  }
}

/** numpy's `np.spacing(1)`, the epsilon in pycocotools' precision denominator. */
const EPS = 2.220446049250313e-16;

/**
 * pycocotools' `accumulate()`: per category, area range, maxDets and IoU threshold, the
 * cumulative TP/FP over detections in (descending score, image id, file) order, precision
 * `tp / (tp + fp + eps)` made monotone from the right, sampled at each recall threshold with
 * `searchsorted(recall, recThrs, side='left')` (0 where never reached).
 */
export function accumulate(matches: CocoMatches, params: CocoEvalParams): CocoAccumulated {
  const T = params.iouThrs.length, R = params.recThrs.length, K = matches.catIds.length;
  const A = params.areaRng.length, M = params.maxDets.length;
  const AT = A * T;
  const { catStart, rank, state, npig } = matches;
  const areaLo = Float64Array.from(params.areaRng, (r) => r[0]);
  const areaHi = Float64Array.from(params.areaRng, (r) => r[1]);
  const colArea = Int32Array.from({ length: AT }, (_, at) => Math.floor(at / T));
  const unmatchedFp = new Int32Array(A); // FPs so far from `unmatched` detections, per area range
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  let maxNk = 0;
  for (let k = 0; k < K; k++) maxNk = Math.max(maxNk, catStart[k + 1] - catStart[k]);
  const sel = new Int32Array(maxNk);
  // Per (area, threshold) column `at`: running counts, and pr/rc at each TP (rows of maxNk).
  // Columns are done in groups so these buffers stay below 2^22 entries (64 MB) per array.
  const group = Math.max(1, Math.min(AT, Math.floor(2 ** 22 / Math.max(1, maxNk))));
  const tpCount = new Int32Array(AT);
  const fpCount = new Int32Array(AT);
  const tpRc = new Float64Array(group * maxNk);
  const env = new Float64Array(group * maxNk);
  const npOf = new Float64Array(AT);
  const { recThrs } = params;
  const q = new Float64Array(R);
  const recSorted = recThrs.every((v, i) => i === 0 || v >= recThrs[i - 1]);
  for (let k = 0; k < K; k++) {
    let prevNd = -1;
    for (let a = 0; a < A; a++) for (let t = 0; t < T; t++) npOf[a * T + t] = npig[k * A + a];
    for (let m = 0; m < M; m++) {
      const maxDet = params.maxDets[m];
      let nd = 0;
      for (let p = catStart[k]; p < catStart[k + 1]; p++) if (rank[p] < maxDet) sel[nd++] = p;
      if (nd === prevNd) {
        // No (image, category) holds more than maxDets[m-1] detections: same list, same values.
        for (let a = 0; a < A; a++) {
          for (let t = 0; t < T; t++) {
            const ri = ((t * K + k) * A + a) * M + m;
            recall[ri] = recall[ri - 1];
            for (let r = 0; r < R; r++) {
              const pi = (((t * R + r) * K + k) * A + a) * M + m;
              precision[pi] = precision[pi - 1];
            }
          }
        }
        continue;
      }
      prevNd = nd;
      // One pass over the detections for a group of (area, threshold) columns at once.
      // Precision only rises at a TP (an FP lowers it, an ignored detection keeps it), so the
      // envelope and the recall lookups need pr/rc at the TPs alone, plus pr[0].
      for (let g0 = 0; g0 < AT; g0 += group) {
        const g1 = Math.min(AT, g0 + group);
        countColumns(matches, sel, nd, AT, g0, g1, maxNk, npOf, colArea, areaLo, areaHi, { tpCount, fpCount, unmatchedFp, tpRc, env });
        for (let at = g0; at < g1; at++) {
          const a = Math.floor(at / T), t = at % T;
          const np = npig[k * A + a];
          if (np === 0) continue;
          const tp = tpCount[at];
          const off = (at - g0) * maxNk;
          const firstIsTp = nd > 0 && state[sel[0] * AT + at] === TP;
          recall[((t * K + k) * A + a) * M + m] = nd ? tp / np : 0;
          sampleEnvelope(env, tpRc, off, tp, nd, firstIsTp, recThrs, recSorted, q);
          for (let r = 0; r < R; r++) precision[(((t * R + r) * K + k) * A + a) * M + m] = q[r];
        }
      }
    }
  }
  return { T, R, K, A, M, precision, recall };
}
