/**
 * The Region Proposal Network (Faster R-CNN Sec. 3.1; torchvision `rpn.py`).
 *
 * Shapes: N images, h x w feature cells, A anchors per cell, K = h * w * A anchors per image.
 * Objectness is one logit per anchor with a sigmoid / binary cross-entropy, as torchvision's
 * RPNHead (the paper's 2k softmax outputs, py-faster-rcnn's rpn_cls_score, are equivalent for two
 * classes and cost twice the channels).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, Module } from '../src/nn/index.ts';
import type { Rng } from '../src/random.ts';
import {
  BalancedPositiveNegativeSampler,
  BoxCoder,
  Matcher,
  clipBoxes,
  nms,
  removeSmallBoxes,
  selectBoxes,
  selectValues,
  topK,
} from '../src/boxes/index.ts';
import { gridAnchors } from './anchors.ts';
import type { RPNConfig } from './config.ts';
import { rpnLoss } from './losses.ts';
import type { DetectionTarget, ImageSize } from './types.ts';

/**
 * 3x3 conv + ReLU, then sibling 1x1 convs for A objectness logits and 4A deltas. Weights are
 * N(0, 0.01), biases 0 (py-faster-rcnn rpn_conv/rpn_cls_score/rpn_bbox_pred; torchvision RPNHead).
 */
export class RPNHead extends Module {
  readonly conv: Conv2d;
  readonly clsLogits: Conv2d;
  readonly bboxPred: Conv2d;

  constructor(inChannels: number, channels: number, numAnchors: number, rng: Rng) {
    super();
    this.conv = this.child('conv', gaussianConv(inChannels, channels, 3, rng));
    this.clsLogits = this.child('cls_logits', gaussianConv(channels, numAnchors, 1, rng));
    this.bboxPred = this.child('bbox_pred', gaussianConv(channels, 4 * numAnchors, 1, rng));
  }

  /**
   * @param x [N, h, w, C] trunk features
   * @returns logits [N, h * w * A], deltas [N, h * w * A, 4] (anchor order of gridAnchors)
   */
  forward(x: tf.Tensor4D): { logits: tf.Tensor2D; deltas: tf.Tensor3D } {
    return tf.tidy(() => {
      const t = tf.relu(this.conv.forward(x));
      const n = x.shape[0];
      return {
        logits: tf.reshape(this.clsLogits.forward(t), [n, -1]) as tf.Tensor2D,
        deltas: tf.reshape(this.bboxPred.forward(t), [n, -1, 4]) as tf.Tensor3D,
      };
    });
  }
}

/** A conv with N(0, 0.01) weights and zero bias (the references' init for the new layers). */
export function gaussianConv(inC: number, outC: number, k: number, rng: Rng): Conv2d {
  const conv = new Conv2d(inC, outC, k, { padding: (k - 1) / 2, bias: true }, rng);
  tf.tidy(() => conv.weight.assign(tf.randomNormal(conv.weight.shape, 0, 0.01, 'float32', rng.seed())));
  return conv;
}

/** What the RPN produces for a batch; `logits` and `deltas` belong to the caller. */
export interface RPNOutput {
  logits: tf.Tensor2D;
  deltas: tf.Tensor3D;
  /** [K, 4] anchors shared by every image */
  anchors: Float32Array;
  /** per image: [P, 4] proposals, by decreasing objectness */
  proposals: Float32Array[];
  /** per image: [P] objectness logits of the proposals */
  scores: Float32Array[];
}

export class RegionProposalNetwork extends Module {
  readonly head: RPNHead;
  readonly numAnchors: number;
  private readonly coder: BoxCoder;
  private readonly matcher: Matcher;
  private readonly sampler: BalancedPositiveNegativeSampler;

  /**
   * @param inChannels trunk channels (from the backbone's outputShape)
   * @param stride trunk stride (16 for the paper's backbones)
   */
  constructor(
    readonly config: RPNConfig,
    inChannels: number,
    readonly stride: number,
    rng: Rng,
  ) {
    super();
    this.numAnchors = config.anchorSizes.length * config.anchorRatios.length;
    const channels = config.channels === 'trunk' ? inChannels : config.channels;
    this.head = this.child('head', new RPNHead(inChannels, channels, this.numAnchors, rng));
    this.coder = new BoxCoder(config.boxWeights);
    this.matcher = new Matcher({ high: config.fgIouThresh, low: config.bgIouThresh, allowLowQualityMatches: true });
    this.sampler = new BalancedPositiveNegativeSampler(config.batchSizePerImage, config.positiveFraction);
  }

  /**
   * Runs the head and turns its outputs into proposals (no gradient flows through proposals:
   * approximate joint training, Faster R-CNN Sec. 3.2).
   * @param features [N, h, w, C] trunk features
   * @param imageSizes valid size of each image (proposals are clipped to it)
   * @param training picks the train or test top-N numbers
   */
  forward(features: tf.Tensor4D, imageSizes: ImageSize[], training: boolean): RPNOutput {
    const [n, h, w] = features.shape;
    const { logits, deltas } = this.head.forward(features);
    const anchors = gridAnchors(h, w, this.stride, { sizes: this.config.anchorSizes, ratios: this.config.anchorRatios });
    const k = anchors.length / 4;
    const allLogits = logits.dataSync();
    const allDeltas = deltas.dataSync();
    const proposals: Float32Array[] = [];
    const scores: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.propose(allLogits.subarray(i * k, (i + 1) * k), allDeltas.subarray(4 * i * k, 4 * (i + 1) * k), anchors, imageSizes[i], training);
      proposals.push(p.boxes);
      scores.push(p.scores);
    }
    return { logits, deltas, anchors, proposals, scores };
  }

  /**
   * py-faster-rcnn's ProposalLayer: decode every anchor, clip to the image, drop boxes smaller
   * than minSize original-image pixels, keep the top preNmsTopN by objectness, NMS at nmsThresh, keep postNmsTopN.
   * @param logits [K] @param deltas [K, 4] @param anchors [K, 4]
   */
  propose(logits: ArrayLike<number>, deltas: ArrayLike<number>, anchors: Float32Array, size: ImageSize, training: boolean): { boxes: Float32Array; scores: Float32Array } {
    const c = this.config;
    const decoded = clipBoxes(this.coder.decode(deltas, anchors), size.height, size.width);
    // minSize is in original-image pixels (py-faster-rcnn: min_size * im_scale, see config.ts);
    // resdet's widths are x2 - x1 in continuous coordinates, py-faster-rcnn's legacy x2 - x1 + 1
    // in inclusive pixel indices: the same extent of the same box.
    const big = removeSmallBoxes(decoded, c.minSize * (size.scaleX ?? 1), c.minSize * (size.scaleY ?? 1));
    const bigScores = selectValues(Float32Array.from(logits), big);
    const top = topK(bigScores, training ? c.preNmsTopNTrain : c.preNmsTopNTest);
    const boxes = selectBoxes(decoded, selectValues(big, top));
    const topScores = selectValues(bigScores, top);
    const keep = nms(boxes, topScores, c.nmsThresh).subarray(0, training ? c.postNmsTopNTrain : c.postNmsTopNTest);
    return { boxes: selectBoxes(boxes, keep), scores: selectValues(topScores, keep) };
  }

  /**
   * Anchor labels and regression targets of one image (Faster R-CNN Sec. 3.1.2-3.1.3,
   * py-faster-rcnn AnchorTargetLayer): IoU >= fgIouThresh or a GT's best anchor -> 1, IoU <
   * bgIouThresh -> 0, else -1; then 256 sampled, at most half positive, the rest set to -1.
   * Anchors crossing the image border by more than config.allowedBorder px are ignored (-1), as
   * the paper's training (Sec. 3.3).
   * @returns labels [K] in {1, 0, -1}, targets [K, 4] (zero except for positives)
   */
  assignTargets(anchors: Float32Array, gt: DetectionTarget, size: ImageSize, rng: Rng): { labels: Int8Array; targets: Float32Array } {
    const k = anchors.length / 4;
    const allowedBorder = this.config.allowedBorder;
    const labels = new Int8Array(k).fill(-1);
    const targets = new Float32Array(4 * k);
    const inside: number[] = [];
    for (let a = 0; a < k; a++) {
      if (
        anchors[4 * a] >= -allowedBorder &&
        anchors[4 * a + 1] >= -allowedBorder &&
        anchors[4 * a + 2] <= size.width + allowedBorder &&
        anchors[4 * a + 3] <= size.height + allowedBorder
      ) {
        inside.push(a);
      }
    }
    const insideAnchors = selectBoxes(anchors, inside);
    const { matches } = this.matcher.match(gt.boxes, insideAnchors);
    const insideLabels = new Int8Array(inside.length);
    for (let j = 0; j < inside.length; j++) insideLabels[j] = matches[j] >= 0 ? 1 : matches[j] === -1 ? 0 : -1;
    const { positive, negative } = this.sampler.sample(insideLabels, rng);
    for (const j of negative) labels[inside[j]] = 0;
    if (positive.length > 0) {
      const matchedGt = selectBoxes(gt.boxes, selectValues(matches, positive));
      const enc = this.coder.encode(matchedGt, selectBoxes(insideAnchors, positive));
      positive.forEach((j, q) => {
        labels[inside[j]] = 1;
        targets.set(enc.subarray(4 * q, 4 * q + 4), 4 * inside[j]);
      });
    }
    return { labels, targets };
  }

  /**
   * The RPN losses of a batch (see losses.ts rpnLoss for the normalisation).
   * @param out this batch's forward output
   */
  losses(out: RPNOutput, targets: DetectionTarget[], imageSizes: ImageSize[], rng: Rng): { cls: tf.Scalar; box: tf.Scalar } {
    const k = out.anchors.length / 4;
    const n = targets.length;
    const labels = new Int8Array(n * k);
    const regression = new Float32Array(n * k * 4);
    for (let i = 0; i < n; i++) {
      const t = this.assignTargets(out.anchors, targets[i], imageSizes[i], rng);
      labels.set(t.labels, i * k);
      regression.set(t.targets, 4 * i * k);
    }
    return tf.tidy(() => rpnLoss(tf.reshape(out.logits, [n * k]), tf.reshape(out.deltas, [n * k, 4]), labels, regression, this.config.smoothL1Beta));
  }
}
