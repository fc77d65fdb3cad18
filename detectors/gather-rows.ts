/**
 * `tf.gather(x, indices)` along axis 0 with an explicit scatter-add gradient. tfjs's own gather
 * gradient needs the UnsortedSegmentSum kernel, which the wasm backend lacks; ScatterNd (which
 * sums duplicate indices on cpu and wasm alike) computes the same gradient on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * @param x [M, ...rest] the table, e.g. a flattened feature map [H * W, C]
 * @param indices [K] rows to take (duplicates allowed; their gradients add up)
 * @returns [K, ...rest]; d/dx is the scatter-add of the upstream gradient into x's rows
 */
export function gatherRows(x: tf.Tensor, indices: Int32Array): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const table = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const idx = tf.tensor1d(indices, 'int32');
    save([idx]);
    const value = tf.gather(table, idx);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(tf.expandDims(saved[0], 1), dy, table.shape),
    };
  });
  return op(x);
}
