/**
 * The one list of resdet's backbones (STYLE.md habit 6): a typed name -> factory map, so
 * `BackboneName` (= `keyof typeof BACKBONES`) is the set of valid names and a bad name gets an
 * error listing them.
 *
 * Families: ImageNet ResNets and plain nets (Table 1, Table 2), the CIFAR-10 ResNets and plain
 * nets of Sec. 4.2 (6n+2 layers), and VGG-16. Options are one typed object over per-family
 * DEFAULTS; a family ignores options it has no use for (VGG has no shortcuts).
 */
import { UserError, quote } from '../src/errors.ts';
import type { WeightInit } from '../src/random.ts';
import { SHORTCUT_OPTIONS, type ShortcutOption } from './blocks.ts';
import { cifarResnet } from './cifar-resnet.ts';
import { resnet } from './resnet.ts';
import type { Backbone } from './types.ts';
import { vgg } from './vgg.ts';

export type { Backbone, FeatureSpec } from './types.ts';
export type { ShortcutOption } from './blocks.ts';

/** Options of createBackbone; each family fills the unset ones from its DEFAULTS. */
export interface BackboneOptions {
  /** classifier outputs; default 1000 for ImageNet nets, 10 for CIFAR nets */
  numClasses: number;
  /** initialisation seed (same seed, same weights) */
  seed: number;
  /** shortcut option A / B / C (Sec. 3.3); default B for ImageNet ResNets, A for CIFAR */
  shortcut: ShortcutOption;
  /** remove the shortcuts (plain net) */
  plain: boolean;
  /** ImageNet bottleneck nets: stride-2 on the first 1x1 (MSRA/Caffe/Keras) instead of the 3x3 */
  strideInFirst1x1: boolean;
  /**
   * 'none' skips the random initialisation (weights start at zero) when every weight is loaded
   * right after, from a checkpoint or an imported file; default 'random'
   */
  init: WeightInit;
}

type Factory = (options: Partial<BackboneOptions>) => Backbone;

export const BACKBONES = {
  resnet18: (o) => resnet(18, o),
  resnet34: (o) => resnet(34, o),
  resnet50: (o) => resnet(50, o),
  resnet101: (o) => resnet(101, o),
  resnet152: (o) => resnet(152, o),
  plain18: (o) => resnet(18, { ...o, plain: true }),
  plain34: (o) => resnet(34, { ...o, plain: true }),
  resnet20: (o) => cifarResnet(20, o),
  resnet32: (o) => cifarResnet(32, o),
  resnet44: (o) => cifarResnet(44, o),
  resnet56: (o) => cifarResnet(56, o),
  resnet110: (o) => cifarResnet(110, o),
  resnet1202: (o) => cifarResnet(1202, o),
  plain20: (o) => cifarResnet(20, { ...o, plain: true }),
  plain32: (o) => cifarResnet(32, { ...o, plain: true }),
  plain44: (o) => cifarResnet(44, { ...o, plain: true }),
  plain56: (o) => cifarResnet(56, { ...o, plain: true }),
  plain110: (o) => cifarResnet(110, { ...o, plain: true }),
  vgg16: (o) => vgg(16, o),
} as const satisfies Record<string, Factory>;

/** A registered backbone name, e.g. 'resnet50'. */
export type BackboneName = keyof typeof BACKBONES;

/** Every registered name, in registry order. */
export const BACKBONE_NAMES = Object.keys(BACKBONES) as BackboneName[];

/** True when `name` is a registered backbone. */
export function isBackboneName(name: string): name is BackboneName {
  return Object.prototype.hasOwnProperty.call(BACKBONES, name);
}

function validate(name: string, o: Partial<BackboneOptions>): void {
  const bad = (field: string, expected: string, got: unknown) => new UserError(`backbone ${name}: options.${field}: expected ${expected}, got ${quote(got)}`);
  if (o.numClasses !== undefined && !(Number.isInteger(o.numClasses) && o.numClasses > 0)) throw bad('numClasses', 'a positive integer', o.numClasses);
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0)) throw bad('seed', 'a non-negative integer', o.seed);
  if (o.shortcut !== undefined && !SHORTCUT_OPTIONS.includes(o.shortcut)) throw bad('shortcut', `one of ${SHORTCUT_OPTIONS.join(', ')}`, o.shortcut);
  if (o.init !== undefined && o.init !== 'random' && o.init !== 'none') throw bad('init', "'random' or 'none'", o.init);
  for (const flag of ['plain', 'strideInFirst1x1'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') throw bad(flag, 'true or false', o[flag]);
  }
}

/**
 * Builds a registered backbone.
 * @param name e.g. 'resnet50', 'resnet20', 'plain56', 'vgg16'
 * @param options overrides of the family's defaults
 * @throws UserError for an unknown name (listing the valid ones) or a bad option
 */
export function createBackbone(name: string, options: Partial<BackboneOptions> = {}): Backbone {
  if (!isBackboneName(name)) {
    throw new UserError(`unknown backbone ${quote(name)}; expected one of: ${BACKBONE_NAMES.join(', ')}`);
  }
  validate(name, options);
  return BACKBONES[name](options);
}
