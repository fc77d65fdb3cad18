/**
 * The Fast R-CNN head on RPN proposals (Fast R-CNN Sec. 2; torchvision `roi_heads.py`;
 * ResNet paper Appendix A for the ResNet head).
 *
 * Shapes: R sampled RoIs over the batch, P = pooledSize, C trunk channels, D = the backbone head's
 * output channels, K object classes. Labels in and out are class indices 0..K-1 (detectors/types.ts);
 * the K + 1 score columns put background first, so class k is column k + 1: the one place that
 * shift happens is here, where targets become columns ({@link SampledRoIs}) and columns become
 * detections ({@link RoIHeads.postprocess}).
 * Training samples 128 RoIs per image (25% foreground at IoU >= 0.5, background in [0.1, 0.5))
 * from the proposals plus the GT boxes, pools them, runs the backbone's detection head (ResNet
 * conv5 + global average pool, or VGG fc6/fc7), then `cls_score` (K + 1) and class-specific
 * `bbox_pred` (4 (K + 1): a background column too, as torchvision's FastRCNNPredictor and
 * py-faster-rcnn's bbox_pred with 4 * 21 outputs for VOC).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Linear, Module, type ConvRunner, type Layer } from '../src/nn/index.ts';
import type { Rng } from '../src/random.ts';
import {
  BalancedPositiveNegativeSampler,
  BoxCoder,
  Matcher,
  batchedNms,
  clipBoxes,
  concatBoxes,
  removeSmallBoxes,
  selectBoxes,
  selectValues,
} from '../src/boxes/index.ts';
import type { RoIHeadsConfig } from './config.ts';
import { fastRcnnLoss } from './losses.ts';
import { roiAlign } from './roi-align.ts';
import { roiPool } from './roi-pool.ts';
import type { DetectionTarget, Detections, ImageSize } from './types.ts';

/** What a backbone's per-region head says about the RoI grid it takes (Backbone.detection). */
export interface HeadPooling {
  /** the grid side the head is built for (14 ResNet conv5, 7 VGG-16 fc6) */
  pooledSize: number;
  /** the head takes only that side (VGG-16's fc6) */
  fixedPooledSize?: boolean;
}

/**
 * The one rule for the RoI grid side P a head gets: the config's request where the head takes
 * any size (a ResNet's conv5 + global average pool), else the head's own. A fixed head keeps
 * its size rather than failing, so one recipe (e.g. the CPU recipes' 4x4, tasks/detection/
 * recipes.ts) serves every backbone: VGG-16's fc6 can only take the 7x7x512 its ImageNet
 * weights were trained on.
 * @param requested RoIHeadsConfig.pooledSize
 */
export function resolvePooledSize(requested: number | 'backbone', head: HeadPooling): number {
  return requested === 'backbone' || head.fixedPooledSize ? head.pooledSize : requested;
}

/** torchvision postprocess_detections drops boxes with a side under 1e-2 px. */
const MIN_DETECTION_SIZE = 1e-2;

/**
 * cls_score and bbox_pred (torchvision FastRCNNPredictor). Initialised as py-faster-rcnn:
 * cls_score N(0, 0.01), bbox_pred N(0, 0.001), biases 0.
 */
export class FastRCNNPredictor extends Module {
  readonly clsScore: Linear;
  readonly bboxPred: Linear;

  constructor(inChannels: number, numClasses: number, rng: Rng) {
    super();
    this.clsScore = this.child('cls_score', gaussianLinear(inChannels, numClasses + 1, 0.01, rng));
    this.bboxPred = this.child('bbox_pred', gaussianLinear(inChannels, 4 * (numClasses + 1), 0.001, rng));
  }

  /** @param x [R, D] -> logits [R, K + 1], deltas [R, 4 (K + 1)] */
  forward(x: tf.Tensor2D): { classLogits: tf.Tensor2D; boxDeltas: tf.Tensor2D } {
    return { classLogits: this.clsScore.forward(x) as tf.Tensor2D, boxDeltas: this.bboxPred.forward(x) as tf.Tensor2D };
  }
}

function gaussianLinear(inC: number, outC: number, std: number, rng: Rng): Linear {
  const l = new Linear(inC, outC, rng);
  tf.tidy(() => {
    l.weight.assign(tf.randomNormal(l.weight.shape, 0, std, 'float32', rng.seed()));
    l.bias?.assign(tf.zerosLike(l.bias));
  });
  return l;
}

/** The sampled RoIs of a batch with their training targets. */
export interface SampledRoIs {
  /** [R, 4] xyxy */
  rois: Float32Array;
  /** [R] image of each RoI (non-decreasing) */
  batchIndices: Int32Array;
  /** [R] score column: 0 = background, k + 1 = class k */
  labels: Int32Array;
  /** [R, 4] normalised regression targets (zero for background) */
  targets: Float32Array;
}

/** What {@link RoIHeads} is built from. */
export interface RoIHeadsOptions {
  /** the resolved config part (detectors/config.ts `resolveConfig(...).roiHeads`) */
  config: RoIHeadsConfig;
  /** K object classes (background excluded) */
  numClasses: number;
  /** the backbone's per-region head ([R, P, P, C] -> [R, D]); owned by the backbone */
  head: Layer;
  /** D, the head's output channels */
  headChannels: number;
  /** P, as {@link resolvePooledSize} gives it for this head and config */
  pooledSize: number;
  /** trunk stride (RoIs are scaled by 1 / stride onto the map) */
  stride: number;
  /** draws the predictor's initial weights */
  rng: Rng;
}

export class RoIHeads extends Module {
  readonly config: RoIHeadsConfig;
  readonly numClasses: number;
  readonly head: Layer;
  readonly pooledSize: number;
  readonly stride: number;
  readonly boxPredictor: FastRCNNPredictor;
  private readonly coder: BoxCoder;
  private readonly matcher: Matcher;
  private readonly sampler: BalancedPositiveNegativeSampler;

  constructor({ config, numClasses, head, headChannels, pooledSize, stride, rng }: RoIHeadsOptions) {
    super();
    this.config = config;
    this.numClasses = numClasses;
    this.head = head;
    this.pooledSize = pooledSize;
    this.stride = stride;
    this.boxPredictor = this.child('box_predictor', new FastRCNNPredictor(headChannels, numClasses, rng));
    this.coder = new BoxCoder(config.boxWeights);
    this.matcher = new Matcher({ high: config.fgIouThresh, low: config.fgIouThresh });
    this.sampler = new BalancedPositiveNegativeSampler(config.batchSizePerImage, config.positiveFraction);
  }

  /**
   * py-faster-rcnn ProposalTargetLayer for one image: GT boxes are appended to the proposals;
   * foreground = IoU >= fgIouThresh (labelled with the GT's class column, label + 1), background = IoU in
   * [bgIouThreshLo, bgIouThreshHi); the rest is not sampled. An image without GT boxes has only
   * background, and all its proposals are eligible (IoU 0 is below any bgIouThreshLo).
   * @param proposals [P, 4] @param gt the image's targets
   * @returns sampled RoIs, foreground first; labels are score columns (0 = background)
   */
  sampleImage(proposals: Float32Array, gt: DetectionTarget, rng: Rng): { rois: Float32Array; labels: Int32Array; targets: Float32Array } {
    const c = this.config;
    const candidates = concatBoxes(proposals, gt.boxes);
    const { maxIou, bestGt } = this.matcher.match(gt.boxes, candidates);
    const noGt = gt.labels.length === 0;
    const eligibility = new Int8Array(maxIou.length);
    for (let i = 0; i < maxIou.length; i++) {
      const v = maxIou[i];
      eligibility[i] = !noGt && v >= c.fgIouThresh ? 1 : v < c.bgIouThreshHi && (noGt || v >= c.bgIouThreshLo) ? 0 : -1;
    }
    const { positive, negative } = this.sampler.sample(eligibility, rng);
    const keep = Int32Array.from([...positive, ...negative]);
    const rois = selectBoxes(candidates, keep);
    const labels = new Int32Array(keep.length);
    const targets = new Float32Array(4 * keep.length);
    if (positive.length > 0) {
      const matched = selectValues(bestGt, positive);
      const classes = selectValues(gt.labels, matched);
      for (let i = 0; i < classes.length; i++) labels[i] = classes[i] + 1;
      targets.set(this.coder.encode(selectBoxes(gt.boxes, matched), selectBoxes(candidates, positive)));
    }
    return { rois, labels, targets };
  }

  /** Samples every image's RoIs and packs them for pooling. */
  sample(proposals: Float32Array[], targets: DetectionTarget[], rng: Rng): SampledRoIs {
    const parts = proposals.map((p, i) => this.sampleImage(p, targets[i], rng));
    const batchIndices = Int32Array.from(parts.flatMap((s, i) => Array.from(s.labels, () => i)));
    return {
      rois: concatBoxes(...parts.map((s) => s.rois)),
      batchIndices,
      labels: Int32Array.from(parts.flatMap((s) => Array.from(s.labels))),
      targets: concatBoxes(...parts.map((s) => s.targets)),
    };
  }

  /**
   * Pools the RoIs and runs the head and predictor.
   * @param features [N, h, w, C] @param rois [R, 4] @param batchIndices [R]
   * @param runner runs the head's convolutions (folded BN at inference, src/nn/fuse.ts)
   * @returns classLogits [R, K + 1], boxDeltas [R, 4 (K + 1)]
   */
  forwardRoIs(features: tf.Tensor4D, rois: Float32Array, batchIndices: Int32Array, runner?: ConvRunner): { classLogits: tf.Tensor2D; boxDeltas: tf.Tensor2D } {
    return tf.tidy(() => {
      const c = this.config;
      const geometry = { outputSize: this.pooledSize, spatialScale: 1 / this.stride };
      const pooled =
        c.roiOp === 'align'
          ? roiAlign(features, rois, batchIndices, { ...geometry, samplingRatio: c.samplingRatio, aligned: c.aligned })
          : roiPool(features, rois, batchIndices, geometry);
      const head = runner ? this.head.forwardWith(pooled, runner) : this.head.forward(pooled);
      return this.boxPredictor.forward(head as tf.Tensor2D);
    });
  }

  /**
   * Fast R-CNN losses of a batch (losses.ts fastRcnnLoss). With no RoI at all (possible only
   * when every image lacks both GT and proposals) both losses are 0.
   * @param runner runs the head's convolutions (training: src/nn/fuse.ts FrozenBnConvs)
   */
  losses(features: tf.Tensor4D, proposals: Float32Array[], targets: DetectionTarget[], rng: Rng, runner?: ConvRunner): { cls: tf.Scalar; box: tf.Scalar } {
    const s = this.sample(proposals, targets, rng);
    if (s.labels.length === 0) return { cls: tf.scalar(0), box: tf.scalar(0) };
    return tf.tidy(() => {
      const { classLogits, boxDeltas } = this.forwardRoIs(features, s.rois, s.batchIndices, runner);
      return fastRcnnLoss(classLogits, boxDeltas, s.labels, s.targets, this.config.smoothL1Beta);
    });
  }

  /**
   * Inference (torchvision postprocess_detections): softmax scores, per-class decoding, clip to
   * the image, score > scoreThresh, drop tiny boxes, per-class NMS at nmsThresh, keep the top
   * detectionsPerImage.
   * @param proposals per image [P, 4]
   * @param runner runs the head's convolutions (folded BN, src/nn/fuse.ts); default unfused
   * @returns per image, in network-input pixels
   */
  detect(features: tf.Tensor4D, proposals: Float32Array[], imageSizes: ImageSize[], runner?: ConvRunner): Detections[] {
    const batchIndices = Int32Array.from(proposals.flatMap((p, i) => Array.from({ length: p.length / 4 }, () => i)));
    const rois = concatBoxes(...proposals);
    if (batchIndices.length === 0) return proposals.map(() => emptyDetections());
    const [probs, deltas] = tf.tidy(() => {
      const { classLogits, boxDeltas } = this.forwardRoIs(features, rois, batchIndices, runner);
      return [tf.softmax(classLogits), boxDeltas];
    });
    const p = probs.dataSync() as Float32Array;
    const d = deltas.dataSync() as Float32Array;
    tf.dispose([probs, deltas]);
    const k1 = this.numClasses + 1;
    const out: Detections[] = [];
    let at = 0;
    for (let i = 0; i < proposals.length; i++) {
      const r = proposals[i].length / 4;
      out.push(this.postprocess(p.subarray(at * k1, (at + r) * k1), d.subarray(4 * at * k1, 4 * (at + r) * k1), proposals[i], imageSizes[i]));
      at += r;
    }
    return out;
  }

  /**
   * One image's detections from its class probabilities and deltas.
   * @param probs [R, K + 1] @param deltas [R, 4 (K + 1)] @param proposals [R, 4]
   */
  postprocess(probs: Float32Array, deltas: Float32Array, proposals: Float32Array, size: ImageSize): Detections {
    const c = this.config;
    const k1 = this.numClasses + 1;
    const boxes = clipBoxes(this.coder.decode(deltas, proposals), size.height, size.width);
    const candBoxes: number[] = [];
    const candScores: number[] = [];
    const candLabels: number[] = [];
    for (let r = 0; r < proposals.length / 4; r++) {
      for (let j = 1; j < k1; j++) {
        const s = probs[r * k1 + j];
        if (s <= c.scoreThresh) continue;
        const o = 4 * (r * k1 + j);
        candBoxes.push(boxes[o], boxes[o + 1], boxes[o + 2], boxes[o + 3]);
        candScores.push(s);
        candLabels.push(j - 1); // column j is class j - 1
      }
    }
    const all = Float32Array.from(candBoxes);
    const big = removeSmallBoxes(all, MIN_DETECTION_SIZE);
    const b = selectBoxes(all, big);
    const s = selectValues(Float32Array.from(candScores), big);
    const l = selectValues(Int32Array.from(candLabels), big);
    const keep = batchedNms(b, s, l, c.nmsThresh).subarray(0, c.detectionsPerImage);
    return { boxes: selectBoxes(b, keep), scores: selectValues(s, keep), labels: selectValues(l, keep) };
  }
}

/** Detections of an image where nothing was found. */
export function emptyDetections(): Detections {
  return { boxes: new Float32Array(0), scores: new Float32Array(0), labels: new Int32Array(0) };
}
