/**
 * What a detector checkpoint carries besides its weights (the `config` of resdet's checkpoint
 * format, src/train/checkpoint.ts), and how `detect` / `evaluate` rebuild the model from it:
 * backbone name, class names, the detector config (with the RoI pooling size) and the input
 * geometry and normalisation the model was trained with. The spec and the rebuild, with no file
 * access, are ./spec.ts (re-exported here); this module adds loading a checkpoint file.
 */
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { detectorFromCheckpoint, type LoadedDetector } from './spec.ts';

export {
  buildDetector, DETECTOR_CHECKPOINT_KIND, detectorFromCheckpoint, detectorSpecOf, inputSpec, mapperOptions, type DetectorSpec, type LoadedDetector,
} from './spec.ts';

/** Loads a detector checkpoint: rebuilds the model from its config and loads the weights. */
export function loadDetector(file: string): LoadedDetector {
  return detectorFromCheckpoint(loadCheckpoint(file), file);
}
