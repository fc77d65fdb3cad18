/**
 * What a detector checkpoint carries besides its weights (the `config` of resdet's checkpoint
 * format, src/train/checkpoint.ts), and how a model is rebuilt from it: backbone name, class
 * names, the detector config (with the RoI pooling size) and the input geometry and
 * normalisation the model was trained with. No file access: the browser build rebuilds
 * detectors with it; ./model.ts adds loading a checkpoint file.
 */
import { createBackbone } from '../../backbones/index.ts';
import type { MapperOptions } from '../../datasets/detection/mapper.ts';
import { PIXEL_NORMS, type PixelNormName } from '../../datasets/detection/normalize.ts';
import { FasterRCNN, type FasterRCNNOverrides } from '../../detectors/index.ts';
import { inputError, quote } from '../../src/errors.ts';
import type { WeightInit } from '../../src/random.ts';
import { disposeCheckpoint, type Checkpoint } from '../../src/train/checkpoint-bytes.ts';
import type { InputSpec } from './detect-image.ts';

/** Marks a checkpoint as a detector's. */
export const DETECTOR_CHECKPOINT_KIND = 'resdet-detector';

/** The model-defining part of a detector checkpoint's config. */
export interface DetectorSpec {
  kind: typeof DETECTOR_CHECKPOINT_KIND;
  /** backbone registry name, e.g. `resnet50` */
  backbone: string;
  /** class names; label k (a class index, detectors/types.ts) is `classes[k]` */
  classes: string[];
  /** detector overrides (numClasses = classes.length, seed) */
  detector: FasterRCNNOverrides;
  /**
   * RoI pooling size as checkpoints written before it moved into the detector config
   * (`detector.roiHeads.pooledSize`) carry it; read for them, no longer written
   */
  pooledSize?: number;
  /** input geometry and normalisation */
  input: { minSize: number; maxSize: number; norm: PixelNormName };
}

/**
 * Builds the detector a spec describes (fresh weights; load a state dict into it to restore).
 * Everything about the model is in the spec's detector config, the RoI grid and op included
 * (`roiHeads.pooledSize`, `roiHeads.roiOp`: detectors/config.ts); a spec written before the grid
 * moved into the config carries it as `pooledSize`, read here. A spec without a field gets the
 * config's default, as when it was written.
 * @param init 'none' skips the backbone's random initialisation when a checkpoint's weights
 *   replace all of them next (VGG-16's draws cost seconds)
 */
export function buildDetector(spec: DetectorSpec, init: WeightInit = 'random'): FasterRCNN {
  const legacy = spec.pooledSize !== undefined && spec.detector.roiHeads?.pooledSize === undefined;
  const overrides: FasterRCNNOverrides = {
    ...spec.detector,
    numClasses: spec.classes.length,
    ...(legacy ? { roiHeads: { ...spec.detector.roiHeads, pooledSize: spec.pooledSize } } : {}),
  };
  const backbone = createBackbone(spec.backbone, { seed: overrides.seed ?? 0, init });
  if (!backbone.detection) {
    backbone.dispose();
    throw inputError('backbone', '', `expected a backbone with a detection cut (an ImageNet ResNet or VGG-16), got ${quote(spec.backbone)}`);
  }
  return new FasterRCNN({ backbone }, overrides);
}

/** The mapper options a spec implies (inference: no degenerate-box errors). */
export function mapperOptions(spec: DetectorSpec): MapperOptions {
  return { minSize: spec.input.minSize, maxSize: spec.input.maxSize, norm: PIXEL_NORMS[spec.input.norm] };
}

/** Checks that a checkpoint's config is a detector spec; errors name the file and field. */
export function detectorSpecOf(config: unknown, file: string): DetectorSpec {
  const c = config as Partial<DetectorSpec> | null;
  if (!c || typeof c !== 'object' || c.kind !== DETECTOR_CHECKPOINT_KIND) {
    throw inputError(file, 'config.kind', `expected a detector checkpoint (${quote(DETECTOR_CHECKPOINT_KIND)}, written by resdet train-detector), got ${quote(c && typeof c === 'object' ? c.kind : c)}`);
  }
  if (typeof c.backbone !== 'string') throw inputError(file, 'config.backbone', `expected a backbone name, got ${quote(c.backbone)}`);
  if (!Array.isArray(c.classes) || c.classes.length === 0 || !c.classes.every((x) => typeof x === 'string')) throw inputError(file, 'config.classes', `expected class names, got ${quote(c.classes)}`);
  const input = c.input;
  if (!input || !(input.minSize > 0) || !(input.maxSize > 0) || !Object.hasOwn(PIXEL_NORMS, input.norm)) throw inputError(file, 'config.input', `expected {minSize, maxSize, norm}, got ${quote(input)}`);
  return c as DetectorSpec;
}

/** A detector rebuilt from a checkpoint, with the checkpoint's training state. */
export interface LoadedDetector {
  model: FasterRCNN;
  spec: DetectorSpec;
  /** the whole checkpoint config (spec plus training settings) */
  config: Record<string, unknown>;
  step: number;
}

/** The input geometry and normalisation of a spec, as ./detect-image.ts takes them. */
export function inputSpec(spec: DetectorSpec): InputSpec {
  return { minSize: spec.input.minSize, maxSize: spec.input.maxSize, norm: PIXEL_NORMS[spec.input.norm] };
}

/**
 * Rebuilds the detector of a loaded checkpoint and loads its weights; the checkpoint's tensors
 * are disposed (the model holds copies).
 * @param file the checkpoint's name for error messages
 */
export function detectorFromCheckpoint(ckpt: Checkpoint, file: string): LoadedDetector {
  try {
    const spec = detectorSpecOf(ckpt.config, file);
    // every weight comes from the checkpoint (loadStateDict is strict): skip the random draws
    const model = buildDetector(spec, 'none');
    model.loadStateDict(ckpt.model);
    return { model, spec, config: ckpt.config as Record<string, unknown>, step: ckpt.step };
  } finally {
    disposeCheckpoint(ckpt);
  }
}
