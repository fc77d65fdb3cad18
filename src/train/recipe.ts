/**
 * What every training recipe fixes about its SGD run, shared by the classification recipes
 * (tasks/classification/recipes/), the detection recipes (tasks/detection/recipes.ts) and the
 * paper's detection presets (detectors/presets/). Each recipe type extends it with what only its
 * task has: the schedule's shape, augmentation, input geometry, the model's config.
 */
export interface SgdRecipe {
  /** images per update */
  batchSize: number;
  /** base learning rate */
  lr: number;
  /** SGD momentum (the paper: 0.9) */
  momentum: number;
  /** L2 weight decay (the paper: 1e-4 for ResNets, Sec. 3.4) */
  weightDecay: number;
  /** total updates */
  iterations: number;
}
