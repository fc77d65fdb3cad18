/**
 * Training-mode batch normalisation (Ioffe & Szegedy 2015, Alg. 1) with a closed-form backward.
 *
 * Written as `tf.moments` + broadcast sub/div/mul/add, autodiff keeps about three [N, H, W, C]
 * tensors alive per BN until the backward pass and runs a dozen Sum/Multiply/Mean/broadcast
 * kernels for its gradient. Here `tf.customGrad` saves only the input x (plus the per-channel
 * mean and variance) and the backward is the textbook closed form, over the M = N*H*W positions:
 *
 *   xhat = (x - mean) / sqrt(var + eps)
 *   dbeta = sum(dy), dgamma = sum(dy * xhat)
 *   dx = gamma / sqrt(var + eps) * (dy - dbeta / M - xhat * dgamma / M)
 *
 * with two per-channel reductions, and dx written as dy * k + (x - mean) * b + c with per-channel
 * k, b, c so that no further full-size reduction or normalised copy of x is needed.
 *
 * A backend with resdet's fused kernels (BATCH_NORM_TRAIN, src/backend/custom-kernels.ts: the
 * native backend) runs the same forward and backward as one kernel each, two passes over x.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, hasKernel } from '../backend/custom-kernels.ts';

/** Receives the batch mean and biased variance [C] (e.g. to update running statistics). */
export type BatchStatsHook = (mean: tf.Tensor, variance: tf.Tensor) => void;

/**
 * y = (x - mean) / sqrt(var + eps) * gamma + beta with the batch's statistics over every axis
 * but the last; differentiable in x, gamma and beta (customGrad returns all three gradients).
 * @param x [N, H, W, C] or [N, C]
 * @param gamma [C]
 * @param beta [C]
 * @param onStats called inside the forward with the batch mean and biased variance [C]; the
 *   tensors are disposed after it returns (keep what it needs, e.g. by `Variable.assign`).
 * @returns y, shaped as x
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, onStats?: BatchStatsHook): tf.Tensor {
  if (hasKernel(BATCH_NORM_TRAIN)) return fusedBatchNormTrain(x, gamma, beta, eps, onStats);
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.rank - 1];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(xi, axes);
    onStats?.(mean, variance);
    save([xi, g, mean, variance]);
    // One fused pass: (x - mean) * rsqrt(var + eps) * gamma + beta.
    const value = tf.batchNorm(xi, mean, variance, b, g, eps);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, gs, ms, vs] = saved;
        const d = dy as tf.Tensor;
        return tf.tidy(() => {
          const invStd = tf.rsqrt(tf.add(vs, eps));
          const centred = tf.sub(xs, ms);
          const dBeta = tf.sum(d, axes);
          const sumDyCentred = tf.sum(tf.mul(d, centred), axes);
          const dGamma = tf.mul(sumDyCentred, invStd);
          // dx = k*dy - k*dBeta/M - k*invStd^2*sumDyCentred/M * (x - mean), k = gamma*invStd.
          const k = tf.mul(gs, invStd);
          const c = tf.mul(k, -1 / count);
          const dx = tf.add(tf.mul(tf.add(d, tf.mul(dBeta, -1 / count)), k),
            tf.mul(centred, tf.mul(tf.mul(c, tf.square(invStd)), sumDyCentred)));
          return [dx, dGamma, dBeta];
        });
      },
    };
  });
  return op(x, gamma, beta);
}

/** batchNormTrain through the backend's fused kernels (same contract). */
function fusedBatchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number, onStats?: BatchStatsHook): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, b] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [value, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x: xi, gamma: g, beta: b }, { eps }) as tf.Tensor[];
    onStats?.(mean, variance);
    save([xi, g, mean, variance]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, gs, ms, vs] = saved;
        return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy: dy as tf.Tensor, x: xs, gamma: gs, mean: ms, variance: vs }, { eps }) as tf.Tensor[];
      },
    };
  });
  return op(x, gamma, beta);
}
