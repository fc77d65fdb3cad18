/**
 * A training recipe: the detector config plus the solver schedule. Presets are plain typed
 * objects (STYLE.md habit 4) that the train-detector tool reads.
 */
import type { SgdRecipe } from '../../src/train/recipe.ts';
import type { FasterRCNNOverrides } from '../config.ts';

/** A paper's detection recipe: detector config, solver and input (see voc.ts, coco.ts). */
export interface DetectionRecipe {
  /** what the recipe reproduces, with its source */
  description: string;
  detector: FasterRCNNOverrides;
  /**
   * the SGD run (batchSize: images per iteration, the references use 1 per GPU; iterations:
   * py-faster-rcnn's max_iter) and its step schedule
   */
  solver: SgdRecipe & {
    /** iterations at which the rate is multiplied by gamma */
    steps: readonly number[];
    gamma: number;
  };
  input: {
    /** training/test shorter side (py-faster-rcnn SCALES (600,)) */
    shortSide: number;
    /** longer side cap (MAX_SIZE 1000) */
    maxSize: number;
    /** horizontal-flip augmentation (py-faster-rcnn TRAIN.USE_FLIPPED) */
    flip: boolean;
  };
}
