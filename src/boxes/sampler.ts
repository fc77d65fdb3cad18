/**
 * Samples a fixed-size mini-batch of positives and negatives per image, as torchvision's
 * `BalancedPositiveNegativeSampler` (detectron2 `subsample_labels`): at most
 * `batchSize * positiveFraction` positives, the rest negatives, each chosen uniformly at random.
 * Used by the RPN (256 anchors, half positive at most, Faster R-CNN Sec. 3.1.3) and the RoI head
 * (128 RoIs, 25% foreground, Fast R-CNN Sec. 2.3). Random choices come from a seeded Rng.
 */
import type { Rng } from '../random.ts';

export interface SampledIndices {
  /** chosen positive indices, ascending */
  positive: Int32Array;
  /** chosen negative indices, ascending */
  negative: Int32Array;
}

export class BalancedPositiveNegativeSampler {
  constructor(
    readonly batchSizePerImage: number,
    readonly positiveFraction: number,
  ) {}

  /**
   * @param labels [P] per-candidate label: > 0 positive (a class or 1), 0 negative, < 0 ignored
   */
  sample(labels: ArrayLike<number>, rng: Rng): SampledIndices {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] > 0) pos.push(i);
      else if (labels[i] === 0) neg.push(i);
    }
    const numPos = Math.min(Math.floor(this.batchSizePerImage * this.positiveFraction), pos.length);
    const numNeg = Math.min(this.batchSizePerImage - numPos, neg.length);
    return { positive: choose(pos, numPos, rng), negative: choose(neg, numNeg, rng) };
  }
}

/** k distinct items of `from` chosen uniformly (partial Fisher-Yates), returned ascending. */
function choose(from: number[], k: number, rng: Rng): Int32Array {
  const a = from.slice();
  for (let i = 0; i < k; i++) {
    const j = rng.int(i, a.length);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return Int32Array.from(a.slice(0, k)).sort();
}
