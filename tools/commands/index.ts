/**
 * The one list of resdet's subcommands: name -> loader of the module that adds it (with its
 * options and `--help`) to the program. Modules are imported only when needed: a command's
 * dependencies (tfjs, sharp, the models) cost about a second of start-up together, so
 * `resdet eval coco` loads only what evaluation needs, while `resdet --help` loads them all.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

export const COMMANDS = {
  info: async (): Promise<Register> => (await import('./info.ts')).registerInfo,
  eval: async (): Promise<Register> => (await import('./eval.ts')).registerEval,
  'make-shapes': async (): Promise<Register> => (await import('./make-shapes.ts')).registerMakeShapes,
  'train-detector': async (): Promise<Register> => (await import('./train-detector.ts')).registerTrainDetector,
  detect: async (): Promise<Register> => (await import('./detect.ts')).registerDetect,
  evaluate: async (): Promise<Register> => (await import('./evaluate.ts')).registerEvaluate,
  'compare-backbones': async (): Promise<Register> => (await import('./compare-backbones.ts')).registerCompareBackbones,
  demo: async (): Promise<Register> => (await import('./demo.ts')).registerDemo,
  classify: async (): Promise<Register> => (await import('./classify.ts')).registerClassify,
  'eval-classifier': async (): Promise<Register> => (await import('./eval-classifier.ts')).registerEvalClassifier,
  'train-classifier': async (): Promise<Register> => (await import('./train-classifier.ts')).registerTrainClassifier,
  experiment: async (): Promise<Register> => (await import('./experiment.ts')).registerExperiment,
  serve: async (): Promise<Register> => (await import('./serve.ts')).registerServe,
  export: async (): Promise<Register> => (await import('./export.ts')).registerExport,
};

export type CommandName = keyof typeof COMMANDS;

/**
 * The subcommand named on a command line (the first word that is not an option or the value of
 * `--backend`), when it is one of COMMANDS.
 * @param args the arguments after `node resdet`
 */
export function commandNamed(args: readonly string[]): CommandName | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--backend') {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return Object.hasOwn(COMMANDS, a) ? (a as CommandName) : undefined;
  }
  return undefined;
}
