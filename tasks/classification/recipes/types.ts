/**
 * A classification training recipe: every number of a schedule from the paper, as one plain
 * typed object (STYLE.md habit 4). `resdet train-classifier --preset NAME` starts from one and
 * command-line flags override single fields.
 */
import type { Normalisation } from '../../../datasets/classification/augment.ts';
import type { SgdRecipe } from '../../../src/train/recipe.ts';

/** A classification training recipe: the SGD run's numbers ({@link SgdRecipe}) and what classification adds. */
export interface ClassifierRecipe extends SgdRecipe {
  /** which augmentation and evaluation crops: the paper's CIFAR-10 or ImageNet pipeline */
  augment: 'cifar' | 'imagenet';
  normalisation: Normalisation;
  /** steps: divide by 10 at these iterations; plateau: divide by 10 when the monitored error stalls */
  schedule: { kind: 'steps'; milestones: number[] } | { kind: 'plateau'; patience: number };
  /**
   * a low starting rate for the deepest nets, kept until the training error is below
   * `untilError` (ResNet-110/1202: 0.01 until below 80%, about 400 iterations); see
   * src/train/error-warmup.ts for the running mean over `window` updates and the `warnAfter` log
   */
  warmup?: { models: string[]; lr: number; untilError: number; window: number; warnAfter: number };
  /** training images held out for validation (CIFAR-10: 5k of 50k, Sec. 4.2); 0 = none */
  holdout: number;
  /** evaluate every this many updates */
  evalEvery: number;
  /** evaluate on at most this many images (all when absent) */
  evalImages?: number;
  checkpointEvery: number;
  logEvery: number;
}
