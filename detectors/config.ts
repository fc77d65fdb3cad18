/**
 * Typed configuration of Faster R-CNN (Ren et al. 2015) as used in the ResNet paper (He et al.
 * 2016, Appendix A). Every default names its source: the paper and py-faster-rcnn for the
 * numbers, torchvision for the one choice the paper predates (RoIAlign as roiOp; the presets
 * switch it back to the paper's RoIPool). Parts are configured separately and merged
 * as `{...DEFAULTS, ...overrides}` (STYLE.md habit 4); presets (the paper's VOC and COCO recipes)
 * live in detectors/presets/.
 */
import type { BoxWeights } from '../src/boxes/index.ts';

/** The region proposal network's config (defaults: RPN_DEFAULTS). */
export interface RPNConfig {
  /** anchor sides in input pixels (Faster R-CNN Sec. 3.1.1: 128^2, 256^2, 512^2) */
  anchorSizes: readonly number[];
  /** anchor aspect ratios h/w (Sec. 3.1.1: 1:2, 1:1, 2:1) */
  anchorRatios: readonly number[];
  /**
   * channels of the 3x3 conv; 'trunk' = the backbone trunk's channels, as torchvision's RPNHead
   * and Detectron's C4 RPN (1024 for ResNet conv4); py-faster-rcnn uses 512 for VGG-16 (= its
   * trunk) and for its ResNet-101 models too (a number here reproduces that).
   */
  channels: number | 'trunk';
  /** anchors with IoU >= this are positive (Sec. 3.1.2: 0.7) */
  fgIouThresh: number;
  /** anchors with IoU < this with every GT are negative (Sec. 3.1.2: 0.3) */
  bgIouThresh: number;
  /**
   * training ignores anchors crossing the image border by more than this many pixels (Sec. 3.3;
   * py-faster-rcnn AnchorTargetLayer allowed_border 0); a huge value (1e9) keeps every anchor, as
   * torchvision does
   */
  allowedBorder: number;
  /** sampled anchors per image (Sec. 3.1.3: 256) */
  batchSizePerImage: number;
  /** positives at most this fraction of the sample (Sec. 3.1.3: up to 1:1) */
  positiveFraction: number;
  /** proposals kept before NMS, train/test (py-faster-rcnn RPN_PRE_NMS_TOP_N: 12000/6000) */
  preNmsTopNTrain: number;
  preNmsTopNTest: number;
  /** proposals kept after NMS, train/test (py-faster-rcnn RPN_POST_NMS_TOP_N: 2000/300) */
  postNmsTopNTrain: number;
  postNmsTopNTest: number;
  /** NMS IoU over proposals (Sec. 3.3: 0.7) */
  nmsThresh: number;
  /**
   * proposals with a side below this many ORIGINAL-image pixels are dropped (py-faster-rcnn
   * RPN_MIN_SIZE 16, lib/rpn/proposal_layer.py: `_filter_boxes(proposals, min_size *
   * im_info[2])`, i.e. 16 original pixels = 16 * im_scale input pixels; the image's scale comes
   * in ImageSize.scaleX/scaleY, 1 when absent). torchvision instead drops only degenerate boxes
   * (min_size 1e-3 at the input scale); 1e-3 here with unscaled sizes reproduces that.
   */
  minSize: number;
  /** delta weights: the RPN regresses raw deltas (torchvision rpn BoxCoder weights (1,1,1,1)) */
  boxWeights: BoxWeights;
  /** smooth L1 beta = 1/sigma^2 with sigma 3 (py-faster-rcnn rpn_loss_bbox; torchvision 1/9) */
  smoothL1Beta: number;
}

export type RoIOp = 'align' | 'pool';

/** The RoI heads' config (defaults: ROI_HEADS_DEFAULTS). */
export interface RoIHeadsConfig {
  /** sampled RoIs per image (Fast R-CNN Sec. 2.3, py-faster-rcnn BATCH_SIZE 128) */
  batchSizePerImage: number;
  /** foreground fraction (FG_FRACTION 0.25) */
  positiveFraction: number;
  /** RoIs with IoU >= this are foreground (FG_THRESH 0.5) */
  fgIouThresh: number;
  /** background IoU in [bgIouThreshLo, bgIouThreshHi) (BG_THRESH_HI 0.5, BG_THRESH_LO 0.1; 0 = torchvision) */
  bgIouThreshHi: number;
  bgIouThreshLo: number;
  /**
   * region feature op. The default 'align' follows torchvision (MultiScaleRoIAlign, sampling 2),
   * the more accurate op; 'pool' is the ResNet paper's RoI pooling (Appendix A, py-faster-rcnn's
   * ROIPooling), which the paper's VOC and COCO presets (detectors/presets) select.
   */
  roiOp: RoIOp;
  /**
   * side of the pooled RoI grid fed to the backbone's per-region head. 'backbone' = the size the
   * head is built for (Backbone.detection.pooledSize: 14 for a ResNet's conv5, Appendix A; 7 for
   * VGG-16's fc6, Fast R-CNN Sec. 2.1). A number asks for another size, which only a head that
   * takes any size honours (ResNet: conv5 ends in global average pooling); a head whose first
   * layer fixes it (VGG-16's fc6 is a 7x7x512 -> 4096 matrix, as its ImageNet weights are) keeps
   * its own (roi-heads.ts `resolvePooledSize`). The CPU recipes ask for 4 (tasks/detection/recipes.ts).
   */
  pooledSize: number | 'backbone';
  /** RoIAlign sample points per bin side (torchvision MultiScaleRoIAlign: 2) */
  samplingRatio: number;
  /** RoIAlign half-pixel offset (torchvision Faster R-CNN: false) */
  aligned: boolean;
  /** 1 / std of the box targets (py-faster-rcnn BBOX_NORMALIZE_STDS (0.1, 0.1, 0.2, 0.2)) */
  boxWeights: BoxWeights;
  /** smooth L1 beta with sigma 1 (py-faster-rcnn loss_bbox) */
  smoothL1Beta: number;
  /** detections below this score are dropped (torchvision box_score_thresh 0.05) */
  scoreThresh: number;
  /** per-class NMS IoU at test time (py-faster-rcnn TEST.NMS 0.3) */
  nmsThresh: number;
  /** detections kept per image (py-faster-rcnn max_per_image 100) */
  detectionsPerImage: number;
}

/** A Faster R-CNN's whole config (resolveConfig fills it from DEFAULTS and overrides). */
export interface FasterRCNNConfig {
  /** object classes, background excluded (VOC 20, COCO 80) */
  numClasses: number;
  rpn: RPNConfig;
  roiHeads: RoIHeadsConfig;
  /**
   * fine-tuning as the paper (Appendix A): every BN layer of the backbone becomes a constant
   * affine map, and the backbone's frozenPrefixes (conv1, conv2_x) get no gradient
   */
  freezeBackbone: boolean;
  /** seed of the anchor/RoI samplers and of the new layers' initialisation */
  seed: number;
}

export const RPN_DEFAULTS: RPNConfig = {
  anchorSizes: [128, 256, 512],
  anchorRatios: [0.5, 1, 2],
  channels: 'trunk',
  fgIouThresh: 0.7,
  bgIouThresh: 0.3,
  allowedBorder: 0,
  batchSizePerImage: 256,
  positiveFraction: 0.5,
  preNmsTopNTrain: 12000,
  preNmsTopNTest: 6000,
  postNmsTopNTrain: 2000,
  postNmsTopNTest: 300,
  nmsThresh: 0.7,
  minSize: 16,
  boxWeights: [1, 1, 1, 1],
  smoothL1Beta: 1 / 9,
};

export const ROI_HEADS_DEFAULTS: RoIHeadsConfig = {
  batchSizePerImage: 128,
  positiveFraction: 0.25,
  fgIouThresh: 0.5,
  bgIouThreshHi: 0.5,
  bgIouThreshLo: 0.1,
  roiOp: 'align',
  pooledSize: 'backbone',
  samplingRatio: 2,
  aligned: false,
  boxWeights: [10, 10, 5, 5],
  smoothL1Beta: 1,
  scoreThresh: 0.05,
  nmsThresh: 0.3,
  detectionsPerImage: 100,
};

export const DEFAULTS: FasterRCNNConfig = {
  numClasses: 20,
  rpn: RPN_DEFAULTS,
  roiHeads: ROI_HEADS_DEFAULTS,
  freezeBackbone: true,
  seed: 0,
};

/** Partial overrides of a config (nested parts merge key by key). */
export interface FasterRCNNOverrides {
  numClasses?: number;
  rpn?: Partial<RPNConfig>;
  roiHeads?: Partial<RoIHeadsConfig>;
  freezeBackbone?: boolean;
  seed?: number;
}

function check(ok: boolean, field: string, expected: string, got: unknown): void {
  if (!ok) throw new Error(`Faster R-CNN config: ${field}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/** Merges overrides into DEFAULTS and validates the result. */
export function resolveConfig(overrides: FasterRCNNOverrides = {}): FasterRCNNConfig {
  const cfg: FasterRCNNConfig = {
    ...DEFAULTS,
    ...overrides,
    rpn: { ...RPN_DEFAULTS, ...overrides.rpn },
    roiHeads: { ...ROI_HEADS_DEFAULTS, ...overrides.roiHeads },
  };
  check(Number.isInteger(cfg.numClasses) && cfg.numClasses >= 1, 'numClasses', 'an integer >= 1', cfg.numClasses);
  const { rpn, roiHeads: rh } = cfg;
  check(rpn.anchorSizes.length > 0 && rpn.anchorSizes.every((s) => s > 0), 'rpn.anchorSizes', 'positive sizes', rpn.anchorSizes);
  check(rpn.anchorRatios.length > 0 && rpn.anchorRatios.every((s) => s > 0), 'rpn.anchorRatios', 'positive ratios', rpn.anchorRatios);
  check(rpn.channels === 'trunk' || (Number.isInteger(rpn.channels) && rpn.channels > 0), 'rpn.channels', "'trunk' or a positive integer", rpn.channels);
  check(rpn.bgIouThresh <= rpn.fgIouThresh, 'rpn.bgIouThresh', `<= rpn.fgIouThresh (${rpn.fgIouThresh})`, rpn.bgIouThresh);
  check(rpn.positiveFraction > 0 && rpn.positiveFraction <= 1, 'rpn.positiveFraction', 'in (0, 1]', rpn.positiveFraction);
  check(rh.positiveFraction > 0 && rh.positiveFraction <= 1, 'roiHeads.positiveFraction', 'in (0, 1]', rh.positiveFraction);
  check(rh.bgIouThreshLo <= rh.bgIouThreshHi, 'roiHeads.bgIouThreshLo', `<= bgIouThreshHi (${rh.bgIouThreshHi})`, rh.bgIouThreshLo);
  check(rh.roiOp === 'align' || rh.roiOp === 'pool', 'roiHeads.roiOp', "'align' or 'pool'", rh.roiOp);
  check(rh.pooledSize === 'backbone' || (Number.isInteger(rh.pooledSize) && rh.pooledSize > 0), 'roiHeads.pooledSize', "'backbone' or a positive integer", rh.pooledSize);
  for (const k of ['batchSizePerImage', 'detectionsPerImage'] as const) check(Number.isInteger(rh[k]) && rh[k] > 0, `roiHeads.${k}`, 'a positive integer', rh[k]);
  for (const k of ['batchSizePerImage', 'preNmsTopNTrain', 'preNmsTopNTest', 'postNmsTopNTrain', 'postNmsTopNTest'] as const) {
    check(Number.isInteger(rpn[k]) && rpn[k] > 0, `rpn.${k}`, 'a positive integer', rpn[k]);
  }
  return cfg;
}
