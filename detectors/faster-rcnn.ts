/**
 * Faster R-CNN (Ren et al. 2015) with the ResNet paper's cut (He et al. 2016, Appendix A):
 * images -> backbone trunk (ResNet conv1-conv4 / VGG-16 conv5_3, stride 16) -> RPN proposals ->
 * RoI pooling -> the backbone's per-region head -> class scores and class-specific boxes.
 *
 * Composed as torchvision's FasterRCNN: every part is an optional constructor argument and a
 * default is built only when it is missing. Training is end-to-end approximate joint training
 * (Sec. 3.2: no gradient w.r.t. the proposal coordinates); fine-tuning freezes every BN layer of
 * the backbone (a constant affine map) and conv1 + conv2_x, as Appendix A.
 *
 * Shapes: N images of the padded size H x W; boxes `[x1, y1, x2, y2]` in network-input pixels
 * (in and out: mapping detections back to the original image is the caller's, once, in
 * tasks/detection/detect-image.ts `toOriginal`); labels are class indices 0..numClasses-1
 * (detectors/types.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, FrozenBnConvs, Module, type FoldedConvs } from '../src/nn/index.ts';
import { Rng } from '../src/random.ts';
import type { Backbone } from '../backbones/types.ts';
import { resolveConfig, type FasterRCNNConfig, type FasterRCNNOverrides } from './config.ts';
import { RegionProposalNetwork } from './rpn.ts';
import { RoIHeads, resolvePooledSize } from './roi-heads.ts';
import type { DetectionLosses, DetectionTarget, Detections, ImageSize } from './types.ts';

/** Options of {@link FasterRCNN.detect}. */
export interface DetectOptions {
  /**
   * valid size of each image in input pixels, with its resize factors (`scaleX`/`scaleY`, for the
   * RPN's minSize in original-image pixels); default the full H x W at factor 1
   */
  imageSizes?: ImageSize[];
  /**
   * a fold cache (`new FoldedConvs()`, the caller disposes it), reused over many calls as
   * `detectRecords` does; without it the modules' own (unfolded) path runs. A cache made per call
   * would refold and re-pack every conv weight each time (about 280 ms of CPU for a ResNet-50),
   * more than folding saves on one image.
   */
  convs?: FoldedConvs;
}

/** The parts of a Faster R-CNN; the missing ones are built from the config. */
export interface FasterRCNNParts {
  /** a backbone with a `detection` cut (ResNet-50/101, VGG-16, ...) */
  backbone: Backbone;
  rpn?: RegionProposalNetwork;
  roiHeads?: RoIHeads;
}

/**
 * Faster R-CNN (see the module comment): `losses(images, targets)` for training, `detect(images)`
 * for inference; parts injected or built from the config.
 */
export class FasterRCNN extends Module {
  readonly config: FasterRCNNConfig;
  readonly backbone: Backbone;
  readonly rpn: RegionProposalNetwork;
  readonly roiHeads: RoIHeads;
  /** the trunk feature name (backbone.detection.trunk) */
  readonly trunk: string;
  /**
   * draws the RPN anchor and RoI samples; save `rng.state` in checkpoints for exact resume
   */
  readonly rng: Rng;

  /**
   * @param parts the backbone and optionally prebuilt RPN / RoI heads
   * @param overrides config over DEFAULTS (numClasses, rpn, roiHeads, freezeBackbone, seed)
   */
  constructor(parts: FasterRCNNParts, overrides: FasterRCNNOverrides = {}) {
    super();
    const cfg = resolveConfig(overrides);
    this.config = cfg;
    const { backbone } = parts;
    const det = backbone.detection;
    if (!det) throw new Error(`backbone ${backbone.name} has no detection cut (Backbone.detection); use an ImageNet ResNet or VGG-16`);
    const spec = backbone.outputShape[det.trunk];
    if (!spec) throw new Error(`backbone ${backbone.name}: no output '${det.trunk}' (the detection trunk)`);
    this.trunk = det.trunk;
    const init = new Rng(cfg.seed);
    this.rng = new Rng(init.seed());
    this.backbone = this.child('backbone', backbone);
    this.rpn = this.child('rpn', parts.rpn ?? new RegionProposalNetwork(cfg.rpn, spec.channels, spec.stride, init));
    const pooledSize = resolvePooledSize(cfg.roiHeads.pooledSize, det);
    // Heads on a grid other than the backbone's own (the CPU recipes' 4x4) draw their initial
    // weights from a stream of their own: the one every such run so far (the shapes and tiny
    // recipes' measured ones) was trained with, when train-detector built those heads itself.
    const headRng = pooledSize === det.pooledSize ? init : new Rng(ownHeadSeed(cfg.seed));
    this.roiHeads = this.child(
      'roi_heads',
      parts.roiHeads ?? new RoIHeads({ config: cfg.roiHeads, numClasses: cfg.numClasses, head: det.head, headChannels: det.headChannels, pooledSize, stride: spec.stride, rng: headRng }),
    );
    if (cfg.freezeBackbone) this.freezeBackbone();
    // The ImageNet classifier (ResNet fc, VGG fc8) never runs in the detector: frozen whatever
    // the config, so the trainer neither differentiates nor updates it (torchvision's detection
    // backbones drop it; here it stays in the state so torchvision checkpoints still import).
    for (const name of det.unused ?? []) this.backbone.getModule(name).freeze();
  }

  /**
   * Appendix A fine-tuning: every BatchNorm2d of the backbone (its head included) becomes a
   * constant affine map with frozen parameters, and the modules named in
   * backbone.detection.frozenPrefixes (conv1, conv2_x) get no gradient.
   */
  freezeBackbone(): void {
    const visit = (m: Module) => {
      if (m instanceof BatchNorm2d) m.freezeStats();
      for (const [, child] of m.namedChildren()) visit(child);
    };
    visit(this.backbone);
    const det = this.backbone.detection!;
    visit(det.head);
    for (const prefix of det.frozenPrefixes) this.backbone.getModule(prefix).freeze();
  }

  /** Trainable variables of the whole detector, each once (the head may live outside the backbone's tree). */
  override trainableVariables(): tf.Variable[] {
    const head = this.backbone.detection!.head.trainableVariables();
    return [...new Set([...super.trainableVariables(), ...head])];
  }

  /**
   * The four training losses of a batch (end-to-end approximate joint training).
   * @param images [N, H, W, 3] preprocessed (resized, normalised, padded) images
   * @param targets per image: boxes [G, 4] xyxy in input pixels and labels [G] in 0..numClasses-1;
   *   G = 0 is a valid background-only image
   * @param imageSizes valid size of each image inside the padding; default the full H x W
   * @returns scalars rpnCls, rpnBox, cls, box and total (their sum), owned by the caller
   *   (call inside tf.variableGrads; with the trainer, tf.keep the parts to log)
   */
  losses(images: tf.Tensor4D, targets: DetectionTarget[], imageSizes?: ImageSize[]): DetectionLosses {
    const sizes = this.checkInputs(images, imageSizes);
    if (targets.length !== sizes.length) throw new Error(`losses: ${sizes.length} images but ${targets.length} targets`);
    targets.forEach((t, i) => validateTarget(t, i, this.config.numClasses));
    return tf.tidy(() => {
      // Frozen BN folded into its conv, frozen stages off the gradient tape (src/nn/fuse.ts):
      // the same losses and gradients with far fewer tensors kept for the backward pass.
      const runner = new FrozenBnConvs([images]);
      const features = this.backbone.features(images, [this.trunk], runner)[this.trunk];
      const rpnOut = this.rpn.forward(features, sizes, true);
      const rpn = this.rpn.losses(rpnOut, targets, sizes, this.rng);
      const head = this.roiHeads.losses(features, rpnOut.proposals, targets, this.rng, runner);
      const total = tf.addN([rpn.cls, rpn.box, head.cls, head.box]) as tf.Scalar;
      return { rpnCls: rpn.cls, rpnBox: rpn.box, cls: head.cls, box: head.box, total };
    });
  }

  /**
   * Detects objects (test-time RPN numbers, per-class NMS, score threshold, top 100). Runs in
   * eval mode and restores the previous mode. With `convs`, the backbone trunk and the per-region
   * head run with their frozen BN folded into the convolutions (src/nn/fuse.ts); training never
   * uses folded weights.
   * @param images [N, H, W, 3] preprocessed images
   * @param options image sizes with their resize factors, and a fold cache ({@link DetectOptions})
   * @returns per image: boxes [D, 4] xyxy in input pixels, clipped to the image's valid size,
   *   scores [D] descending, labels [D] in 0..numClasses-1; D <= roiHeads.detectionsPerImage
   */
  detect(images: tf.Tensor4D, options: DetectOptions = {}): Detections[] {
    const { imageSizes, convs } = options;
    const sizes = this.checkInputs(images, imageSizes);
    const wasTraining = this.training;
    this.eval();
    try {
      const features = tf.tidy(() => this.backbone.features(images, [this.trunk], convs)[this.trunk]);
      try {
        const rpnOut = this.rpn.forward(features, sizes, false);
        tf.dispose([rpnOut.logits, rpnOut.deltas]);
        return this.roiHeads.detect(features, rpnOut.proposals, sizes, convs);
      } finally {
        features.dispose();
      }
    } finally {
      this.train(wasTraining);
    }
  }

  private checkInputs(images: tf.Tensor4D, imageSizes?: ImageSize[]): ImageSize[] {
    if (images.rank !== 4 || images.shape[3] !== 3) throw new Error(`images: expected [N, H, W, 3], got [${images.shape}]`);
    const [n, h, w] = images.shape;
    const sizes = imageSizes ?? Array.from({ length: n }, () => ({ height: h, width: w }));
    if (sizes.length !== n) throw new Error(`imageSizes: expected ${n} sizes, got ${sizes.length}`);
    sizes.forEach((s, i) => {
      if (!(s.height > 0 && s.height <= h && s.width > 0 && s.width <= w)) {
        throw new Error(`imageSizes[${i}]: expected a size within ${h}x${w}, got ${s.height}x${s.width}`);
      }
    });
    return sizes;
  }
}

/** A seed for RoI heads on a grid of their own, distinct from the detector's (`seed`). */
function ownHeadSeed(seed: number): number {
  return (Math.imul(seed + 1, 0x9e3779b1) ^ 0x7f4a7c15) >>> 0;
}

/** Checks one image's targets: packed boxes with x2 >= x1, y2 >= y1, labels in 0..numClasses-1. */
export function validateTarget(t: DetectionTarget, i: number, numClasses: number): void {
  const g = t.labels.length;
  if (t.boxes.length !== 4 * g) throw new Error(`targets[${i}].boxes: expected ${4 * g} numbers (4 per label), got ${t.boxes.length}`);
  for (let j = 0; j < g; j++) {
    const l = t.labels[j];
    if (!(Number.isInteger(l) && l >= 0 && l < numClasses)) throw new Error(`targets[${i}].labels[${j}]: expected a class index in 0..${numClasses - 1}, got ${l}`);
    const [x1, y1, x2, y2] = t.boxes.subarray(4 * j, 4 * j + 4);
    if (![x1, y1, x2, y2].every(Number.isFinite) || x2 < x1 || y2 < y1) {
      throw new Error(`targets[${i}].boxes[${j}]: expected finite [x1, y1, x2, y2] with x2 >= x1, y2 >= y1, got [${x1}, ${y1}, ${x2}, ${y2}]`);
    }
  }
}
