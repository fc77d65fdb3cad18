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

/**
 * RoIPool: inputs {features [N, H, W, C]}, attrs {rows, cols: Int32Array [R * 2P] (each bin's
 * [start, end) cells, detectors/roi-pool.ts binRanges), batch: Int32Array [R], outputSize P}
 * -> [out [R, P, P, C] float32, argmax [R, P, P, C] int32 (flat feature index, -1: empty bin)].
 */
export const ROI_POOL = 'ResdetRoIPool';
/** Its gradient: inputs {dy [R, P, P, C], argmax}, attrs {shape: the features' [N, H, W, C]} -> dx. */
export const ROI_POOL_GRAD = 'ResdetRoIPoolGrad';
/**
 * A sparse linear map over C-contiguous rows (RoIAlign's bilinear sums): inputs {features [.., C]},
 * attrs {outRow, srcRow: Int32Array, weight: Float32Array (one triple each), starts: Int32Array
 * (triples of group k, whose output rows no other group writes, are starts[k]..starts[k+1]),
 * outShape} -> out (outShape) with out[outRow] += weight * features[srcRow].
 */
export const SPARSE_GATHER = 'ResdetSparseGather';
/** Its transpose: inputs {dy}, attrs {outRow, srcRow, weight, shape} -> dx (shape) with dx[srcRow] += weight * dy[outRow]. */
export const SPARSE_SCATTER = 'ResdetSparseScatter';

/**
 * Convolution with bias, a residual add and an activation in one pass (inference of a residual
 * block's last conv with BN folded): inputs {x, filter, bias?, add (shaped as the output)},
 * attrs as FusedConv2D {strides, pad, dilations, activation: 'linear' | 'relu'} ->
 * act(conv(x, filter) + bias + add).
 */
export const FUSED_CONV_ADD = 'ResdetFusedConv2DAdd';
