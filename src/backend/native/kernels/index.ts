/** Every kernel the native backend runs natively (the rest are tfjs-backend-cpu's). */
import type * as tf from '@tensorflow/tfjs-core';
import { batchNormConfig } from './batchnorm.ts';
import { batchNormTrainConfig, batchNormTrainGradConfig } from './batchnorm-train.ts';
import { padConfig, sliceConfig } from './copy.ts';
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig, conv2DConfig, fusedConv2DAddConfig, fusedConv2DConfig } from './conv.ts';
import { ELEMENTWISE_KERNELS } from './elementwise.ts';
import { batchMatMulConfig, fusedMatMulConfig } from './matmul.ts';
import { avgPoolConfig, avgPoolGradConfig, maxPoolConfig, maxPoolGradConfig } from './pool.ts';
import { REDUCE_KERNELS } from './reduce.ts';
import { roiPoolConfig, roiPoolGradConfig, sparseGatherConfig, sparseScatterConfig } from './roi.ts';

export const NATIVE_KERNELS: readonly tf.KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  fusedConv2DAddConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  maxPoolConfig,
  avgPoolConfig,
  maxPoolGradConfig,
  avgPoolGradConfig,
  batchNormConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  sliceConfig,
  roiPoolConfig,
  roiPoolGradConfig,
  sparseGatherConfig,
  sparseScatterConfig,
  padConfig,
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
];
