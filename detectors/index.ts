/**
 * The one list of resdet's detectors (STYLE.md habit 6): a typed name -> factory map, so
 * `DetectorName` is the set of valid names and a bad name gets an error listing them.
 */
import { UserError, quote } from '../src/errors.ts';
import { createBackbone, type BackboneOptions } from '../backbones/index.ts';
import type { FasterRCNNOverrides } from './config.ts';
import { FasterRCNN } from './faster-rcnn.ts';

export { FasterRCNN, type DetectOptions, type FasterRCNNParts } from './faster-rcnn.ts';
export * from './config.ts';
export type * from './types.ts';

/** Options of a registered detector: the detector config plus the backbone's own options. */
export interface DetectorOptions extends FasterRCNNOverrides {
  backbone?: Partial<BackboneOptions>;
}

type Factory = (options: DetectorOptions) => FasterRCNN;

function fasterRcnn(backbone: string, { backbone: bo, ...overrides }: DetectorOptions): FasterRCNN {
  return new FasterRCNN({ backbone: createBackbone(backbone, { seed: overrides.seed, ...bo }) }, overrides);
}

/** Faster R-CNN on the paper's backbones (Tables 7-8: VGG-16 vs ResNet-101; ResNet-50 as well). */
export const DETECTORS = {
  'faster-rcnn-resnet50': (o) => fasterRcnn('resnet50', o),
  'faster-rcnn-resnet101': (o) => fasterRcnn('resnet101', o),
  'faster-rcnn-vgg16': (o) => fasterRcnn('vgg16', o),
} as const satisfies Record<string, Factory>;

/** A registered detector name, e.g. 'faster-rcnn-resnet50'. */
export type DetectorName = keyof typeof DETECTORS;

/** Every registered detector name, in registry order. */
export const DETECTOR_NAMES = Object.keys(DETECTORS) as DetectorName[];

/**
 * Builds a registered detector.
 * @throws UserError for an unknown name, listing the valid ones
 */
export function createDetector(name: string, options: DetectorOptions = {}): FasterRCNN {
  if (!Object.prototype.hasOwnProperty.call(DETECTORS, name)) {
    throw new UserError(`unknown detector ${quote(name)}; expected one of: ${DETECTOR_NAMES.join(', ')}`);
  }
  return DETECTORS[name as DetectorName](options);
}
