/**
 * A tiny backbone implementing the Backbone interface, for fast detector tests: conv1 (stride 4,
 * 4 channels) -> conv2 (stride 16, 8 channels) is the trunk; the per-region head is a stride-2
 * conv (16 channels) + BN + ReLU + global average pooling, on 4x4 pooled RoIs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Layer, ReLU, Sequential } from '../../src/nn/index.ts';
import { Rng } from '../../src/random.ts';
import type { Backbone, FeatureSpec } from '../../backbones/types.ts';

export class FakeBackbone extends Layer implements Backbone {
  readonly name = 'fake';
  readonly stageNames = ['conv1', 'conv2'] as const;
  readonly outputShape: Record<string, FeatureSpec> = { conv1: { channels: 4, stride: 4 }, conv2: { channels: 8, stride: 16 } };
  readonly conv1: Sequential;
  readonly conv2: Sequential;
  readonly detection: NonNullable<Backbone['detection']>;

  constructor(seed = 0) {
    super();
    const rng = new Rng(seed);
    this.conv1 = this.child('conv1', new Sequential([new Conv2d(3, 4, 3, { stride: 4, padding: 1 }, rng), new BatchNorm2d(4), new ReLU()]));
    this.conv2 = this.child('conv2', new Sequential([new Conv2d(4, 8, 3, { stride: 4, padding: 1 }, rng), new BatchNorm2d(8), new ReLU()]));
    const head = this.child('head', new Sequential([new Conv2d(8, 16, 3, { stride: 2, padding: 1 }, rng), new BatchNorm2d(16), new ReLU(), new GlobalAvgPool()]));
    this.detection = { trunk: 'conv2', pooledSize: 4, head, headChannels: 16, frozenPrefixes: ['conv1'] };
  }

  features(x: tf.Tensor4D, names: readonly string[]): Record<string, tf.Tensor4D> {
    const out: Record<string, tf.Tensor4D> = {};
    const c1 = this.conv1.forward(x) as tf.Tensor4D;
    if (names.includes('conv1')) out.conv1 = c1;
    if (names.includes('conv2')) out.conv2 = this.conv2.forward(c1) as tf.Tensor4D;
    if (!names.includes('conv1')) c1.dispose();
    return out;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mean(this.features(x as tf.Tensor4D, ['conv2']).conv2, [1, 2]));
  }
}
