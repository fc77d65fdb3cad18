/**
 * What every backbone exposes (STYLE.md habit 7, after detectron2's `output_shape()`): named
 * feature maps with their channels and stride, so heads read them instead of hard-coding.
 *
 * Stage names follow the paper's Table 1: conv1 (stride 2 conv, plus the max pool for ResNets:
 * the map at stride 4 is conv2's input), conv2 ... conv5 (strides 4, 8, 16, 32 for ImageNet
 * ResNets; C2...C5 in FPN terms). CIFAR nets (Sec. 4.2) name their three stages conv2...conv4
 * (strides 1, 2, 4). VGG-16 names its blocks conv1 ... conv5 (conv5 = conv5_3 before pool5).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '../src/nn/module.ts';
import type { ConvRunner } from '../src/nn/fuse.ts';

/** The shape of a named feature map. */
export interface FeatureSpec {
  channels: number;
  /** ratio of the input size to this map's size */
  stride: number;
}

/**
 * A backbone network. As a Layer its `forward` gives classification logits ([N, numClasses]),
 * so the same object is trained as a classifier and later cut for detection.
 * State dict names follow torchvision (conv1, bn1, layer1.0.conv1, ..., fc; VGG features.N,
 * classifier.N) so imported checkpoints map key by key.
 */
export interface Backbone extends Layer {
  /** registry name, e.g. 'resnet50' */
  readonly name: string;
  /** stage names in forward order */
  readonly stageNames: readonly string[];
  /** channels and stride of every stage's output */
  readonly outputShape: Readonly<Record<string, FeatureSpec>>;
  /**
   * Runs the network from the input up to the last of `names` and returns those feature maps.
   * @param x [N, H, W, 3] preprocessed images
   * @param runner optional ConvRunner (src/nn/fuse.ts) for the convolutions, e.g. folded BN at
   *   inference; a backbone may ignore it (the result is the same)
   * @returns each requested stage's output, [N, H/stride, W/stride, channels]
   */
  features(x: tf.Tensor4D, names: readonly string[], runner?: ConvRunner): Record<string, tf.Tensor4D>;
  /**
   * How Faster R-CNN cuts this backbone (paper Appendix A): the stage whose output is shared by
   * the RPN and RoI pooling ('conv4' for ResNets, stride 16; 'conv5' for VGG-16, conv5_3), the
   * RoI pooling size the per-region head expects (14 for ResNet's conv5, 7 for VGG's fc6), and the
   * per-region head itself: for ResNets the conv5 stage (first block stride 2) followed by global
   * average pooling; for VGG-16 fc6 and fc7. Absent for CIFAR nets.
   */
  readonly detection?: {
    trunk: string;
    pooledSize: number;
    /**
     * true when the head takes only pooledSize x pooledSize regions (VGG-16: fc6 is a 7x7x512 ->
     * 4096 matrix); absent or false when any size works (a ResNet's conv5 ends in global average
     * pooling), so a detector config may ask for a smaller grid (RoIHeadsConfig.pooledSize)
     */
    fixedPooledSize?: boolean;
    /** [R, pooledSize, pooledSize, trunk channels] -> [R, headChannels] */
    head: Layer;
    headChannels: number;
    /** names of the modules to freeze when fine-tuning (conv1 and conv2_x, Appendix A) */
    frozenPrefixes: readonly string[];
    /**
     * modules of the classifier that the detector never runs (ResNet `fc`, VGG's fc8
     * `classifier.6`): the detector always freezes them, so they get no gradient, momentum or
     * weight decay, but keeps them in its state so ImageNet checkpoints (which have them) import
     */
    unused?: readonly string[];
  };
}
