/**
 * A new user's first detector, importing only from the package entry: test/api/package.test.ts
 * installs the packed tarball into a fresh project, compiles this file there with tsc against
 * the package's own types, and runs the output with plain `node`. In the repository, 'resdet'
 * maps to ../../../index.ts (tsconfig.json `paths`), so `npm run build` typechecks it too.
 *
 * It makes a tiny shapes set, trains a tiny detector for two updates on two threads and resumes
 * it for one more, reloads the checkpoint, detects, saves the weights and imports them into a freshly built
 * detector, evaluates with both metrics, and prints one JSON line (see {@link Report}).
 *
 * Usage: node smoke.js WORK_DIR
 */
import {
  buildDetector, detectRecords, evaluateDetections, evaluateModel, exportWeights, importWeights, initBackend,
  loadDetectionSet, loadDetector, makeShapes, mapperOptions, tf, trainDetector,
  type ImageDetections, type LogRow, type StepInfo,
} from 'resdet';

/** What the script prints. */
export interface Report {
  backend: string;
  /** steps after the first run and after the resumed one, and the steps each callback saw */
  steps: { first: number; resumed: number; onStep: number[]; onLog: number[] };
  /** finite training losses of the log rows */
  losses: number[];
  classes: string[];
  /** per test image: detections and the lengths of the three arrays */
  detections: Array<{ boxes: number; scores: number; labels: number }>;
  /** every box inside its image, every score in [0, 1], every label a class index */
  valid: boolean;
  /** the reloaded checkpoint and imported weights detect exactly what the first load did */
  sameAfterReload: boolean;
  sameAfterImport: boolean;
  voc: { mAP07: number; mAPArea: number };
  coco: { stats: number[] };
  /** COCO format of the same images, scored by the same pipeline */
  cocoSet: { images: number; stats: number[] };
  /** evaluateModel's numbers equal evaluateDetections' on the same detections */
  pipelineAgrees: boolean;
  /** live tensors before loading any model and after disposing them all */
  tensors: { before: number; after: number };
}

const work = process.argv[2];
if (!work) throw new Error('usage: node smoke.js WORK_DIR');

const backend = await initBackend();
const data = `${work}/shapes`;
// 20 images of 64x64, one circle each: every 5th held out as val/test (16 train, 4 test)
await makeShapes({ out: data, images: 20, seed: 0, width: 64, height: 64, portrait: 0, classes: ['circle'], objects: [1, 1], size: [0.35, 0.6] });

const onStep: number[] = [];
const onLog: number[] = [];
const losses: number[] = [];
const callbacks = {
  quiet: true,
  logEvery: 1,
  onStep: (info: StepInfo) => onStep.push(info.step),
  onLog: (row: LogRow) => {
    onLog.push(row.step);
    if (typeof row.loss === 'number') losses.push(row.loss);
  },
};
const out = `${work}/model`;
// two threads (this one and a worker that loads the compiled replica module), one image each
const first = await trainDetector({ data, format: 'voc', preset: 'tiny', out, iterations: 2, batchSize: 2, workers: 2, seed: 0, ...callbacks });
const resumed = await trainDetector({ out, resume: true, iterations: 3, ...callbacks });

const before = tf.memory().numTensors;
const loaded = loadDetector(resumed.checkpoint);
const set = loadDetectionSet({ data, format: 'voc', split: 'test', classes: loaded.spec.classes });
const mapper = mapperOptions(loaded.spec);
const dets = await detectRecords(loaded.model, set.records, mapper);

const again = loadDetector(resumed.checkpoint);
const detsAgain = await detectRecords(again.model, set.records, mapper);
exportWeights(loaded.model, `${work}/weights.safetensors`);
const rebuilt = buildDetector(loaded.spec);
await importWeights(rebuilt, `${work}/weights.safetensors`);
const detsImported = await detectRecords(rebuilt, set.records, mapper);

const metrics = evaluateDetections(set, dets);
const run = await evaluateModel(loaded.model, loaded.spec, { data, format: 'voc', split: 'test' });
const cocoRun = await evaluateModel(loaded.model, loaded.spec, { data, format: 'coco', split: 'val' });
for (const m of [loaded.model, again.model, rebuilt]) m.dispose();
const after = tf.memory().numTensors;

const same = (a: readonly ImageDetections[], b: readonly ImageDetections[]): boolean =>
  a.length === b.length && a.every((d, i) => ['boxes', 'scores', 'labels'].every((k) => {
    const x = d[k as keyof ImageDetections];
    const y = b[i][k as keyof ImageDetections];
    return x.length === y.length && x.every((v, j) => v === y[j]);
  }));
const valid = dets.every((d, i) => {
  const { width, height } = set.records[i];
  const boxOk = (k: number): boolean => d.boxes[4 * k] >= 0 && d.boxes[4 * k + 1] >= 0 && d.boxes[4 * k + 2] <= width && d.boxes[4 * k + 3] <= height;
  return Array.from(d.scores, (s, k) => s >= 0 && s <= 1 && boxOk(k) && d.labels[k] >= 0 && d.labels[k] < set.classes.length).every(Boolean);
});

const report: Report = {
  backend: backend.chosen,
  steps: { first: first.step, resumed: resumed.step, onStep, onLog },
  losses,
  classes: set.classes,
  detections: dets.map((d) => ({ boxes: d.boxes.length, scores: d.scores.length, labels: d.labels.length })),
  valid,
  sameAfterReload: same(dets, detsAgain),
  sameAfterImport: same(dets, detsImported),
  voc: { mAP07: metrics.voc.mAP07, mAPArea: metrics.voc.mAPArea },
  coco: { stats: metrics.coco.stats },
  cocoSet: { images: cocoRun.set.records.length, stats: cocoRun.metrics.coco.stats },
  pipelineAgrees: run.metrics.voc.mAP07 === metrics.voc.mAP07 && run.metrics.coco.stats.every((s, i) => s === metrics.coco.stats[i]),
  tensors: { before, after },
};
console.log(JSON.stringify(report));
