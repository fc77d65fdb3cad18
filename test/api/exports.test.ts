/**
 * The package entry (index.ts) as its users see it, read with the TypeScript checker: every
 * export carries JSDoc (on its declaration, or on the re-export), and the names the issue asks
 * for are there: build backbones and detectors, import weights, load datasets, train a
 * classifier or a detector, load a checkpoint, detect, evaluate (COCO/VOC), with typed options.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENTRY = path.join(ROOT, 'index.ts');

/** JSDoc text of a symbol's declarations (the re-export's own, else the declaration's). */
function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  const own = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  if (own) return own;
  // `export * as tf from ...` has no target declaration with a comment: its JSDoc sits on the
  // export declaration itself
  for (const d of symbol.declarations ?? []) {
    const jsdoc = ts.getJSDocCommentsAndTags(ts.isNamespaceExport(d) ? d.parent : d);
    const text = jsdoc.map((j) => (typeof j.comment === 'string' ? j.comment : '')).join('').trim();
    if (text) return text;
  }
  if (symbol.flags & ts.SymbolFlags.Alias) {
    const target = checker.getAliasedSymbol(symbol);
    if (target !== symbol) return ts.displayPartsToString(target.getDocumentationComment(checker)).trim();
  }
  return '';
}

describe('package entry: index.ts', function () {
  let exports: Map<string, ts.Symbol>;
  let checker: ts.TypeChecker;

  before(function () {
    // the whole library's types: several seconds
    this.timeout(120_000);
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); } })!;
    const program = ts.createProgram([ENTRY], { ...config.options, noEmit: true });
    checker = program.getTypeChecker();
    const module = checker.getSymbolAtLocation(program.getSourceFile(ENTRY)!)!;
    exports = new Map(checker.getExportsOfModule(module).map((s) => [s.getName(), s]));
  });

  it('documents every export', function () {
    const undocumented = [...exports].filter(([, s]) => !docOf(s, checker)).map(([name]) => name).sort();
    assert.deepEqual(undocumented, [], `exports without JSDoc: ${undocumented.join(', ')}`);
  });

  it('exports what the CLI does, with the options types', function () {
    const wanted = [
      // backend, models, weights
      'initBackend', 'tf', 'UserError', 'createBackbone', 'BackboneOptions', 'createDetector', 'DetectorOptions', 'buildDetector', 'DetectorSpec',
      'importWeights', 'ImportOptions', 'exportWeights',
      // data
      'loadDetectionSet', 'LoadDetectionSetOptions', 'makeShapes', 'MakeShapesOptions', 'openClassificationData', 'readImageFolder', 'loadCocoInstances', 'loadCocoResults', 'readVocResultsDir',
      // training runs with resume and callbacks
      'trainDetector', 'TrainDetectorOptions', 'TrainDetectorResult', 'trainClassifier', 'ClassifierRunOptions', 'ClassifierRunResult', 'RunCallbacks', 'StepInfo', 'LogRow',
      // checkpoints, inference, evaluation
      'loadDetector', 'LoadedDetector', 'detectRecords', 'InferenceOptions', 'ImageDetections', 'evaluateModel', 'EvaluateModelOptions', 'evaluateDetections', 'DetectionMetrics',
      'loadClassifier', 'evaluateClassifier', 'evaluateCoco', 'CocoEvalResult', 'VocEvaluator', 'VocEvalResult',
    ];
    const missing = wanted.filter((n) => !exports.has(n));
    assert.deepEqual(missing, [], `missing from the entry: ${missing.join(', ')}`);
  });

  it('keeps internals out', function () {
    // the engine's parts are reachable by path in a clone, not part of the package's API
    const internal = ['Trainer', 'DataParallel', 'detectionTask', 'createReplica', 'runTraining', 'packImages', 'matchAll', 'accumulate', 'loadCheckpoint'];
    assert.deepEqual(internal.filter((n) => exports.has(n)), []);
  });
});
