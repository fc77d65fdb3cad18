/**
 * Names of resdet's own kernels: fused operations that a backend may implement natively (the
 * native backend does) and that resdet's ops use when the active backend has them, falling back
 * to a composite of stock tfjs ops elsewhere. Kept apart from the backends so that nn code can
 * ask for a kernel without loading any backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Training batch norm: inputs {x [..., C], gamma [C], beta [C]}, attrs {eps} -> [y (as x),
 * batch mean [C], biased batch variance [C]].
 */
export const BATCH_NORM_TRAIN = 'ResdetBatchNormTrain';
/**
 * Its gradient: inputs {dy, x, gamma, mean, variance}, attrs {eps} -> [dx, dgamma, dbeta].
 */
export const BATCH_NORM_TRAIN_GRAD = 'ResdetBatchNormTrainGrad';

/** Whether the active backend implements kernel `name`. */
export function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
