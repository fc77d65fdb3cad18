/**
 * The one list of resdet's subcommands. Each entry adds its subcommand (with options and
 * `--help`) to the program.
 */
import type { Command } from 'commander';
import { registerEval } from './eval.ts';
import { registerInfo } from './info.ts';
import { registerMakeShapes } from './make-shapes.ts';
import { registerTrainDetector } from './train-detector.ts';
import { registerDetect } from './detect.ts';
import { registerEvaluate } from './evaluate.ts';
import { registerCompareBackbones } from './compare-backbones.ts';
import { registerDemo } from './demo.ts';
import { registerClassify } from './classify.ts';
import { registerEvalClassifier } from './eval-classifier.ts';
import { registerTrainClassifier } from './train-classifier.ts';
import { registerExperiment } from './experiment.ts';

export const COMMANDS: Array<(program: Command) => void> = [
  registerInfo,
  registerEval,
  registerMakeShapes,
  registerTrainDetector,
  registerDetect,
  registerEvaluate,
  registerCompareBackbones,
  registerDemo,
  registerClassify,
  registerEvalClassifier,
  registerTrainClassifier,
  registerExperiment,
];
