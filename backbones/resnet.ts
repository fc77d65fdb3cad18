/**
 * ImageNet ResNets of He et al. (CVPR 2016), Table 1, with torchvision's module names so that
 * torchvision state_dicts map key by key: conv1, bn1, layer1 ... layer4 (blocks
 * `layerN.i.conv1/bn1/conv2/bn2[/conv3/bn3]`, projections `layerN.0.downsample.0` / `.1`), fc.
 *
 * Stem as torchvision: 7x7/2 conv, pad 3 -> BN -> ReLU -> 3x3/2 max pool, pad 1. Stages:
 * conv1 (stem, including the max pool: stride 4, the input of conv2_x), conv2 ... conv5
 * (strides 4, 8, 16, 32; `layer1` ... `layer4`), then global average pooling and the fc.
 *
 * Tensors are NHWC: x [N, H, W, 3] -> logits [N, numClasses].
 */
import { NamedSequential, type Layer, type Sequential } from '../src/nn/module.ts';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, MaxPool2d, ReLU } from '../src/nn/layers.ts';
import { initRng, type WeightInit } from '../src/random.ts';
import { BasicBlock, Bottleneck, makeStage, type BlockKind, type ShortcutOption } from './blocks.ts';
import { StagedBackbone } from './staged.ts';
import type { Backbone } from './types.ts';

/** Table 1: the block type and the number of blocks in conv2_x ... conv5_x. */
export interface ResNetSpec {
  block: BlockKind;
  stages: readonly [number, number, number, number];
}

export const RESNET_SPECS = {
  18: { block: 'basic', stages: [2, 2, 2, 2] },
  34: { block: 'basic', stages: [3, 4, 6, 3] },
  50: { block: 'bottleneck', stages: [3, 4, 6, 3] },
  101: { block: 'bottleneck', stages: [3, 4, 23, 3] },
  152: { block: 'bottleneck', stages: [3, 8, 36, 3] },
} as const satisfies Record<number, ResNetSpec>;

export type ResNetDepth = keyof typeof RESNET_SPECS;

export interface ResNetOptions {
  /** classifier outputs (1000 for ImageNet) */
  numClasses: number;
  /** seed of the He-normal / fc initialisation */
  seed: number;
  /** 'none': skip the random draws, weights start at zero (they are loaded next); default 'random' */
  init?: WeightInit;
  /** shortcut option of Sec. 3.3 / Table 3; 'B' is the paper's and torchvision's default */
  shortcut: ShortcutOption;
  /** remove every shortcut: the plain nets of Table 2 / Fig. 4 */
  plain: boolean;
  /** bottleneck stride-2 on the first 1x1 (MSRA/Caffe/Keras weights) instead of the 3x3 (torchvision) */
  strideInFirst1x1: boolean;
}

export const RESNET_DEFAULTS: ResNetOptions = {
  numClasses: 1000,
  seed: 0,
  shortcut: 'B',
  plain: false,
  strideInFirst1x1: false,
};

export class ResNet extends StagedBackbone implements Backbone {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly fc: Linear;
  readonly options: ResNetOptions;
  readonly detection: NonNullable<Backbone['detection']>;

  /**
   * @param name registry name, e.g. 'resnet50'
   * @param spec the Table 1 column
   * @param overrides options over RESNET_DEFAULTS
   */
  constructor(name: string, spec: ResNetSpec, overrides: Partial<ResNetOptions> = {}) {
    super(name);
    const opts = { ...RESNET_DEFAULTS, ...overrides };
    this.options = opts;
    const rng = initRng(opts.seed, opts.init);
    const sc = { option: opts.plain ? 'none' : opts.shortcut, name: 'downsample' } as const;
    const expansion = spec.block === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;

    this.conv1 = this.child('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3 }, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(64));
    const relu = this.child('relu', new ReLU());
    const maxpool = this.child('maxpool', new MaxPool2d(3, 2, 1));
    const layers: Sequential[] = [];
    let inC = 64;
    spec.stages.forEach((count, i) => {
      const planes = 64 * 2 ** i;
      const stage = makeStage(spec.block, inC, planes, count, i === 0 ? 1 : 2, sc, rng, opts.strideInFirst1x1);
      layers.push(this.child(`layer${i + 1}`, stage));
      inC = planes * expansion;
    });
    [this.layer1, this.layer2, this.layer3, this.layer4] = layers;
    const avgpool = this.child('avgpool', new GlobalAvgPool());
    this.fc = this.child('fc', new Linear(inC, opts.numClasses, rng));

    this.setStages(
      [
        { name: 'conv1', layers: [this.conv1, this.bn1, relu, maxpool] },
        { name: 'conv2', layers: [this.layer1] },
        { name: 'conv3', layers: [this.layer2] },
        { name: 'conv4', layers: [this.layer3] },
        { name: 'conv5', layers: [this.layer4] },
      ],
      [avgpool, this.fc],
    );
    // Appendix A: Faster R-CNN shares conv1-conv4 and runs conv5_x (first block stride 2) on each
    // 14x14 RoI, then global average pooling. The head holds the classifier's own layer4, so
    // ImageNet weights flow into the detector; conv1 and conv2_x stay frozen when fine-tuning.
    this.detection = {
      trunk: 'conv4',
      pooledSize: 14,
      head: new NamedSequential([
        ['layer4', this.layer4],
        ['avgpool', avgpool as Layer],
      ]),
      headChannels: inC,
      frozenPrefixes: ['conv1', 'bn1', 'layer1'],
      unused: ['fc'],
    };
  }
}

/** Builds ResNet-`depth` (Table 1) with torchvision naming. */
export function resnet(depth: ResNetDepth, options: Partial<ResNetOptions> = {}): ResNet {
  const prefix = options.plain ? 'plain' : 'resnet';
  return new ResNet(`${prefix}${depth}`, RESNET_SPECS[depth], options);
}
