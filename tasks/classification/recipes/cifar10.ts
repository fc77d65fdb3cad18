/**
 * The paper's CIFAR-10 recipe (Sec. 4.2): weight decay 1e-4, momentum 0.9, mini-batch 128,
 * learning rate 0.1 divided by 10 at 32k and 48k iterations, stopped at 64k; 45k/5k train/val
 * split; 4-pixel padding, random 32x32 crop and flip. For ResNet-110 (and 1202) the rate starts
 * at 0.01 until the training error is below 80% (about 400 iterations), then goes back to 0.1.
 * Inputs are normalised with torchvision's statistics, as the reference CIFAR-10 weights in
 * ../shared/data/cifar10-resnet were trained (the paper subtracts the per-pixel mean instead;
 * `{kind: 'pixelMean'}` does that).
 */
import { TORCHVISION_NORM } from '../../../datasets/classification/augment.ts';
import type { ClassifierRecipe } from './types.ts';

export const CIFAR10: ClassifierRecipe = {
  augment: 'cifar',
  normalisation: TORCHVISION_NORM,
  batchSize: 128,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  iterations: 64000,
  schedule: { kind: 'steps', milestones: [32000, 48000] },
  // Sec. 4.2: "0.01 to warm up the training until the training error is below 80% (about 400
  // iterations)": a running mean over 20 updates; a log line if still on after 2000 (5x the paper's)
  warmup: { models: ['resnet110', 'plain110', 'resnet1202'], lr: 0.01, untilError: 0.8, window: 20, warnAfter: 2000 },
  holdout: 5000,
  evalEvery: 2000,
  checkpointEvery: 1000,
  logEvery: 50,
};
