/**
 * Assigns each prediction (anchor or proposal) to its best ground-truth box, as torchvision's
 * `Matcher` (detectron2 `matcher.py`): IoU >= high -> that GT's index; IoU < low -> BELOW_LOW;
 * in between -> BETWEEN. With allowLowQualityMatches (the RPN, Faster R-CNN Sec. 3.1.2: "the
 * anchor/anchors with the highest IoU overlap with a ground-truth box" are positive), every
 * prediction tied for a GT's best IoU keeps its match even below `high`.
 */
import { iouMatrix, numBoxes, type Boxes } from './ops.ts';

/** Match value: the best IoU is below the low threshold (a negative). */
export const BELOW_LOW = -1;
/** Match value: the best IoU is in [low, high) (ignored). */
export const BETWEEN = -2;

export interface MatcherOptions {
  high: number;
  low: number;
  allowLowQualityMatches?: boolean;
}

export interface MatchResult {
  /** [P] matched GT index, or BELOW_LOW / BETWEEN */
  matches: Int32Array;
  /** [P] best IoU with any GT (0 without GT boxes) */
  maxIou: Float32Array;
  /** [P] index of the best GT regardless of thresholds (-1 without GT boxes) */
  bestGt: Int32Array;
}

export class Matcher {
  readonly high: number;
  readonly low: number;
  readonly allowLowQualityMatches: boolean;

  constructor(opts: MatcherOptions) {
    if (!(opts.low <= opts.high)) throw new Error(`Matcher: expected low <= high, got low ${opts.low}, high ${opts.high}`);
    this.high = opts.high;
    this.low = opts.low;
    this.allowLowQualityMatches = opts.allowLowQualityMatches ?? false;
  }

  /**
   * @param gt [G, 4] xyxy ground-truth boxes (G may be 0: everything is BELOW_LOW)
   * @param predictions [P, 4] xyxy anchors or proposals
   */
  match(gt: Boxes, predictions: Boxes): MatchResult {
    const g = numBoxes(gt);
    const p = numBoxes(predictions);
    const matches = new Int32Array(p).fill(BELOW_LOW);
    const maxIou = new Float32Array(p);
    const bestGt = new Int32Array(p).fill(-1);
    if (g === 0) return { matches, maxIou, bestGt };
    const q = iouMatrix(gt, predictions); // [G, P]
    for (let j = 0; j < p; j++) {
      let best = -1;
      let bestV = -1;
      for (let i = 0; i < g; i++) {
        if (q[i * p + j] > bestV) {
          bestV = q[i * p + j];
          best = i;
        }
      }
      bestGt[j] = best;
      maxIou[j] = bestV;
      matches[j] = bestV >= this.high ? best : bestV < this.low ? BELOW_LOW : BETWEEN;
    }
    if (this.allowLowQualityMatches) {
      // torchvision set_low_quality_matches_: for each GT, every prediction whose IoU equals that
      // GT's highest IoU gets back its own best match (even if the GT's best IoU is 0, as torchvision).
      for (let i = 0; i < g; i++) {
        let gtBest = -1;
        for (let j = 0; j < p; j++) gtBest = Math.max(gtBest, q[i * p + j]);
        for (let j = 0; j < p; j++) if (q[i * p + j] === gtBest) matches[j] = bestGt[j];
      }
    }
    return { matches, maxIou, bestGt };
  }
}
