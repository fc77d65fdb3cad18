/**
 * The paper's ImageNet recipe (Sec. 3.4): SGD with mini-batch 256, learning rate 0.1 divided by
 * 10 when the error plateaus, up to 60x10^4 iterations, weight decay 1e-4, momentum 0.9, no
 * dropout; scale augmentation (shorter side in [256, 480]), random 224 crop, flip, per-channel
 * mean subtraction and colour augmentation. No hold-out: the validation folder is evaluated.
 */
import { IMAGENET_CHANNEL_MEAN } from '../../../datasets/classification/augment.ts';
import type { ClassifierRecipe } from './types.ts';

export const IMAGENET: ClassifierRecipe = {
  augment: 'imagenet',
  normalisation: IMAGENET_CHANNEL_MEAN,
  batchSize: 256,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  iterations: 600000,
  schedule: { kind: 'plateau', patience: 3 },
  holdout: 0,
  evalEvery: 5000,
  evalImages: 10000,
  checkpointEvery: 1000,
  logEvery: 20,
};
