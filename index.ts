/**
 * resdet's public API: `import { ... } from 'resdet'`. Everything the CLI does, as functions
 * with typed options objects:
 *
 * - the compute backend: {@link initBackend} (call it once before any tensor work);
 * - models: {@link createBackbone}, {@link createDetector}, {@link buildDetector}, weights in and
 *   out ({@link importWeights}, {@link exportWeights});
 * - data: detection sets in VOC or COCO format ({@link loadDetectionSet}), the synthetic shapes
 *   set ({@link makeShapes}), classification folders ({@link openClassificationData});
 * - training runs with checkpoints, exact resume and progress / log callbacks:
 *   {@link trainDetector}, {@link trainClassifier};
 * - inference and evaluation: {@link loadDetector}, {@link detectRecords}, {@link imageRecord},
 *   {@link detectImage}, {@link evaluateModel}, {@link evaluateDetections}; {@link loadClassifier},
 *   {@link evaluateClassifier};
 * - the exact COCO and VOC evaluators on their own: {@link evaluateCoco}, {@link VocEvaluator},
 *   with precision-recall plots ({@link cocoPrCurves}, {@link writePrPlots}) and per-class tables
 *   ({@link cocoPerClassTable}, {@link formatTable}).
 *
 * Conventions: boxes are `[x1, y1, x2, y2]` in absolute pixels of the original image, class
 * labels are 0-based indices into the set's (or checkpoint's) `classes`. Errors caused by bad
 * input are {@link UserError}s whose message names the file and field.
 *
 * The package ships this entry compiled to JavaScript (dist/, with .d.ts types); see
 * docs/api.md.
 */

// -- compute backend -------------------------------------------------------------------------
export { initBackend, BACKEND_ORDER, type BackendInfo, type BackendName, type BackendAttempt } from './src/backend/index.ts';
export { UserError } from './src/errors.ts';
/** TensorFlow.js core, the same instance resdet computes with (tensors, `tf.memory()`, `tf.tidy`). */
export * as tf from '@tensorflow/tfjs-core';

// -- models ----------------------------------------------------------------------------------
export { createBackbone, BACKBONE_NAMES, isBackboneName, type Backbone, type BackboneName, type BackboneOptions, type FeatureSpec } from './backbones/index.ts';
export {
  createDetector, DETECTOR_NAMES, FasterRCNN, resolveConfig,
  type DetectorName, type DetectorOptions, type FasterRCNNOverrides, type FasterRCNNConfig, type RPNConfig, type RoIHeadsConfig,
  type Detections, type DetectOptions, type ImageSize,
} from './detectors/index.ts';
export { PRESETS, type DetectionRecipe, type PresetName } from './detectors/presets/index.ts';
export { Module } from './src/nn/module.ts';
export { importWeights, WEIGHT_FORMATS, type ImportOptions, type ImportReport, type WeightFormat } from './src/weights/import.ts';
export { exportWeights } from './src/weights/export.ts';

// -- data ------------------------------------------------------------------------------------
export {
  loadDetectionSet, PIXEL_NORMS,
  type LoadOptions as LoadDetectionSetOptions, type DetectionSet, type DetectionRecord, type PixelNormName, type MapperOptions,
} from './datasets/detection/index.ts';
export { makeShapes, SHAPE_CLASSES, type MakeShapesOptions, type MakeShapesResult, type ShapeClass } from './datasets/shapes/index.ts';
export { VOC_CLASSES } from './datasets/voc/classes.ts';
export { loadVocDataset, type VocDataset, type VocDatasetOptions } from './datasets/voc/devkit.ts';
export { readVocResultsDir, writeVocResultsDir } from './datasets/voc/results.ts';
export type { VocDetection } from './datasets/voc/records.ts';
export { loadCocoInstances, type CocoInstances } from './datasets/coco/annotations.ts';
export { loadCocoResults, writeCocoResults, detectionsFromList } from './datasets/coco/results.ts';
export {
  openClassificationData, readImageFolder, readCifarBinary, readMnist, holdOut, CIFAR10_CLASSES,
  type ClassificationData, type ClassificationSet, type ClassificationRecord,
} from './datasets/classification/index.ts';

// -- detection task: train, load, detect, evaluate -------------------------------------------
export {
  trainDetector,
  type TrainDetectorOptions, type TrainDetectorResult, type DetectorRunConfig, type TrainSettings,
} from './tasks/detection/train.ts';
export { RECIPES as DETECTOR_RECIPES, RECIPE_NAMES as DETECTOR_RECIPE_NAMES, type Recipe as DetectorRecipe, type RecipeName as DetectorRecipeName } from './tasks/detection/recipes.ts';
export { buildDetector, loadDetector, mapperOptions, inputSpec, type DetectorSpec, type LoadedDetector } from './tasks/detection/model.ts';
export { detectRecords, detectImage, imageRecord, type ImageDetections, type InferenceOptions, type InputSpec } from './tasks/detection/inference.ts';
export { evaluateDetections, writeResults, metricsJson, type DetectionMetrics } from './tasks/detection/evaluation.ts';
export { evaluateModel, type EvaluateOptions as EvaluateModelOptions, type EvaluationRun } from './tasks/detection/pipeline.ts';
export { drawDetections, type DrawOptions } from './tasks/detection/draw.ts';
export type { RunCallbacks, RunOptions } from './tasks/run.ts';
export type { SgdRecipe } from './src/train/recipe.ts';
export type { StepInfo, LogRow } from './src/train/trainer.ts';

// -- classification task ---------------------------------------------------------------------
export { trainClassifier, type ClassifierRunOptions, type ClassifierRunResult } from './tasks/classification/train.ts';
export { RECIPES as CLASSIFIER_RECIPES, type ClassifierRecipe, type RecipeName as ClassifierRecipeName } from './tasks/classification/recipes/index.ts';
export { loadClassifier, topK, PREPROCESS_NAMES, type Classifier, type ClassifierOptions, type PreprocessName, type Ranked } from './tasks/classification/predict.ts';
export { evaluateClassifier, type EvaluateOptions as EvaluateClassifierOptions, type EvaluateResult as ClassifierEvaluation } from './tasks/classification/evaluate.ts';

// -- evaluators (COCO and VOC, exact to pycocotools and the VOC devkit) ----------------------
export { evaluateCoco, CocoEvaluator, type CocoEvalResult, type ImagePredictions } from './src/eval/coco-evaluator.ts';
export { COCO_EVAL_DEFAULTS, type CocoEvalParams } from './src/eval/coco.ts';
export { VocEvaluator, vocAp, type VocEvalResult, type VocEvalOptions, type VocGtImage, type VocClassResult, type VocClassCurve } from './src/eval/voc.ts';
export { cocoPrCurves, vocPrCurves, type PrPlots, type PrPlot, type PrCurve } from './src/eval/pr-curves.ts';
export { writePrPlots, prPlotSvg, type PrPlotOptions } from './src/eval/pr-plot.ts';
export { cocoPerClassTable, vocPerClassTable, formatTable, TABLE_FORMATS, type Table, type TableFormat } from './src/eval/per-class-table.ts';
