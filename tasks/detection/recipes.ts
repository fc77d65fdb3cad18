/**
 * Training recipes of `resdet train-detector --preset`, as plain typed objects (STYLE.md
 * habit 4).
 *
 * - voc, coco: the paper's recipes as detectors/presets defines them (VOC 07+12 after Faster
 *   R-CNN / tf-faster-rcnn; COCO after the ResNet paper's Appendix A), with the splits they train
 *   and test on.
 * - shapes: the demo's recipe for the synthetic shapes set on a CPU (wasm) backend: a small
 *   backbone (ResNet-18, trained from scratch: no pretrained weights can be downloaded), images
 *   with a shorter side of 96 px, anchors 16/32/64 for objects of 14-45 px, 64 sampled anchors
 *   and 16 sampled RoIs per image, and RoI pooling to 4x4 before the conv5 head (the paper pools
 *   14x14; the per-region conv5 is the dominant cost of a training step on the CPU, 4x4 cuts it
 *   about 12x). The 4x4 is the detector config's roiHeads.pooledSize, which applies to heads that
 *   take any grid (ResNets); VGG-16's fc6 takes only its 7x7 (detectors/roi-heads.ts
 *   resolvePooledSize), so `--backbone vgg16` runs under these recipes too. Batches of 8: on wasm a training step's cost is mostly per-call overhead of the
 *   convolution gradients, so 8 images cost about 2.5x one image (measured: 31.5 s vs 12.8 s on
 *   the shared 2-core machine). Measured in docs/detection.md's demo section.
 * - tiny: the end-to-end test's recipe (test/tasks/detection/end-to-end.test.ts): one shape
 *   class, 64x64 images taken as they are (shorter side 64), ResNet-18 from scratch, 40 updates
 *   of 4 images. On wasm a step's cost is mostly fixed per-call work on the large conv4/conv5
 *   filters, so the recipe buys accuracy with what is nearly free: more sampled RoIs (32 per
 *   image, half foreground at most, so the classifier sees foreground early) and one anchor (32 px,
 *   square: the objects are 22-38 px circles). The rate drops 10x after 25 updates: BN's running
 *   statistics (momentum 0.1) trail fast-moving weights, and a model evaluated straight after
 *   high-rate steps scored near 0 while its training loss was already low; 15 slow steps let the
 *   statistics catch up.
 */
import { PRESETS, type DetectionRecipe } from '../../detectors/presets/index.ts';
import type { FasterRCNNOverrides } from '../../detectors/index.ts';
import type { PixelNormName } from '../../datasets/detection/index.ts';
import type { SgdRecipe } from '../../src/train/recipe.ts';

/** Everything a detection recipe fixes: the SGD run's numbers ({@link SgdRecipe}) and what detection adds; options override single fields. */
export interface Recipe extends SgdRecipe {
  /** default backbone */
  backbone: string;
  /** iterations at which the rate is divided by 10 */
  steps: number[];
  minSize: number;
  maxSize: number;
  flip: boolean;
  /** input normalisation of the backbone's weights */
  norm: PixelNormName;
  /** split trained on: VOC `trainval` (falls back to `train`), COCO `train` */
  trainSplit: { voc: string; coco: string };
  /** split evaluated: VOC `test`, COCO `val` */
  testSplit: { voc: string; coco: string };
  /** detector config over its defaults (numClasses comes from the data) */
  detector: Omit<FasterRCNNOverrides, 'numClasses' | 'seed'>;
}

const SPLITS = { trainSplit: { voc: 'trainval', coco: 'train' }, testSplit: { voc: 'test', coco: 'val' } };

/** A detectors/presets recipe as a train-detector recipe (numClasses comes from the data). */
function fromPreset(p: DetectionRecipe): Recipe {
  const { numClasses: _numClasses, ...detector } = p.detector;
  const { gamma: _gamma, steps, ...sgd } = p.solver; // gamma: the presets' is 0.1, as Recipe.steps assumes
  return {
    backbone: 'resnet101', ...sgd, steps: [...steps], minSize: p.input.shortSide, maxSize: p.input.maxSize, flip: p.input.flip,
    norm: 'torchvision', ...SPLITS, detector,
  };
}

/** The demo's CPU recipe (see the module comment); `raccoon` starts from it. */
const SHAPES = {
  backbone: 'resnet18', batchSize: 8, lr: 0.02, steps: [450], iterations: 600, momentum: 0.9, weightDecay: 1e-4,
  minSize: 96, maxSize: 160, flip: true, norm: 'torchvision',
  trainSplit: { voc: 'train', coco: 'train' }, testSplit: { voc: 'test', coco: 'val' },
  detector: {
    // From scratch (no pretrained weights): BN learns, nothing frozen.
    freezeBackbone: false,
    rpn: {
      anchorSizes: [16, 32, 64], preNmsTopNTrain: 600, postNmsTopNTrain: 100, preNmsTopNTest: 300, postNmsTopNTest: 30,
      // minSize is in original-image pixels (py-faster-rcnn): 8 at make-shapes' default 256x192
      // resized to 96 px is the 4 input pixels this recipe was measured with
      batchSizePerImage: 64, minSize: 8,
    },
    // 4x4 RoI grid for heads that take any size (ResNets); VGG-16's fc6 keeps its 7x7
    roiHeads: { batchSizePerImage: 16, pooledSize: 4 },
  },
} as const satisfies Recipe;

/** The detection training recipes by name (`preset`); see the module comment. */
export const RECIPES = {
  voc: fromPreset(PRESETS.voc),
  coco: fromPreset(PRESETS.coco),
  shapes: SHAPES,
  tiny: {
    backbone: 'resnet18', batchSize: 4, lr: 0.02, steps: [25], iterations: 40, momentum: 0.9, weightDecay: 1e-4,
    minSize: 64, maxSize: 64, flip: true, norm: 'torchvision',
    trainSplit: { voc: 'train', coco: 'train' }, testSplit: { voc: 'test', coco: 'val' },
    detector: {
      freezeBackbone: false,
      rpn: {
        anchorSizes: [32], anchorRatios: [1], preNmsTopNTrain: 600, postNmsTopNTrain: 100, preNmsTopNTest: 300, postNmsTopNTest: 30,
        batchSizePerImage: 64, minSize: 4,
      },
      roiHeads: { batchSizePerImage: 32, positiveFraction: 0.5, pooledSize: 4 },
    },
  },
  // raccoon: issue 9's real-data recipe, from scratch on ../shared/data/raccoon (160 train / 40
  // held out) in about 10 minutes on the native backend (docs/experiments.md). The shapes recipe
  // with anchors for large objects: a raccoon's box is 0.4-1.1x the shorter image side (sqrt of
  // its area; median 0.83), so 32/64/128 at a shorter side of 96 (shapes' 16/32/64 miss the
  // largest), and 32 sampled RoIs per image.
  raccoon: {
    ...SHAPES,
    steps: [375], iterations: 500,
    detector: {
      ...SHAPES.detector,
      rpn: { ...SHAPES.detector.rpn, anchorSizes: [32, 64, 128] },
      roiHeads: { ...SHAPES.detector.roiHeads, batchSizePerImage: 32 },
    },
  },
} as const satisfies Record<string, Recipe>;

/** A detection recipe's name. */
export type RecipeName = keyof typeof RECIPES;
/** Every detection recipe's name. */
export const RECIPE_NAMES = Object.keys(RECIPES) as RecipeName[];

/**
 * A recipe's detector config with overrides merged part by part (rpn and roiHeads key by key,
 * as resolveConfig merges them); parts neither side sets stay absent.
 */
export function mergeDetector(base: Recipe['detector'], over: Recipe['detector'] | undefined): Recipe['detector'] {
  if (!over) return base;
  const part = <K extends 'rpn' | 'roiHeads'>(k: K) => (base[k] || over[k] ? { [k]: { ...base[k], ...over[k] } } : {});
  return { ...base, ...over, ...part('rpn'), ...part('roiHeads') };
}

/**
 * Anchor sides for the shapes recipe at an input shorter side of `short` pixels: make-shapes
 * draws objects 15-45% of the shorter side across (datasets/shapes/scene.ts; a triangle's box is
 * up to 1.1x that), so S/6, S/3 and 2S/3 cover them at the three scales, as 16/32/64 do at the
 * recipe's 96 px. Images taken at another size (`resdet demo --size`) keep the match.
 */
export function shapesAnchorSizes(short: number): number[] {
  return [short / 6, short / 3, (2 * short) / 3].map((s) => Math.max(4, Math.round(s)));
}
