/**
 * End to end through the CLI on a tiny shapes set: make-shapes -> train-detector (a couple of
 * updates at tiny size) -> detect -> evaluate --json; and exact resume in-process. Sizes are
 * the smallest that exercise every stage, to keep the suite fast on 2 cores.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../../../src/backend/index.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import { trainDetector } from '../../../tasks/detection/train.ts';
import { runCli } from '../../helpers/cli.ts';
import { TINY_DETECTOR_FLAGS, tinyShapesArgs } from '../../helpers/tiny-shapes.ts';

describe('tools: train-detector / detect / evaluate (tiny shapes set)', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-det-cli-'));
  const data = path.join(tmp, 'shapes');
  const tiny = TINY_DETECTOR_FLAGS;
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('make-shapes writes the set and says where', function () {
    const r = runCli(tinyShapesArgs(data));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^wrote 10 images \(8 train, 2 val\/test\), \d+ objects, classes circle, square in/);
    assert.ok(fs.existsSync(path.join(data, 'VOC2007/Annotations/000010.xml')));
  });

  let checkpoint = '';
  it('train-detector ends with `checkpoint: PATH` and writes a JSONL log', function () {
    const out = path.join(tmp, 'run');
    const r = runCli(['train-detector', '--data', data, '--format', 'voc', '--preset', 'shapes', '--iterations', '2', '--out', out, ...tiny]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const m = /^checkpoint: (.+)$/.exec(lines[lines.length - 1]);
    assert.ok(m, `last line: ${lines[lines.length - 1]}`);
    checkpoint = m[1];
    assert.equal(checkpoint, path.join(out, 'checkpoint.safetensors'));
    assert.ok(fs.existsSync(checkpoint));
    assert.match(r.stdout, /steps: 2 of 2 \(2 this run/);
    const rows = fs.readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.equal(rows[rows.length - 1].step, 2);
    for (const k of ['loss', 'rpn_cls', 'rpn_box', 'cls', 'box']) assert.ok(Number.isFinite(rows[rows.length - 1][k]), k);
  });

  it('detect writes detections JSON in image pixels and draws them', function () {
    if (!checkpoint) this.skip();
    const image = path.join(data, 'VOC2007/JPEGImages/000001.jpg');
    const out = path.join(tmp, 'dets.json');
    const draw = path.join(tmp, 'drawn');
    const r = runCli(['detect', '--checkpoint', checkpoint, image, '--out', out, '--draw', draw, '--score-threshold', '0']);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { classes: string[]; images: Array<{ file: string; width: number; height: number; detections: Array<{ label: string; score: number; box: number[] }> }> };
    assert.deepEqual(json.classes, ['circle', 'square']);
    assert.equal(json.images.length, 1);
    const im = json.images[0];
    assert.deepEqual([im.file, im.width, im.height], [image, 64, 48]);
    for (const d of im.detections) {
      assert.ok(json.classes.includes(d.label));
      assert.ok(d.score >= 0 && d.score <= 1);
      // mapped back to the 64x48 original and clipped to it
      assert.ok(d.box[0] >= 0 && d.box[1] >= 0 && d.box[2] <= 64 && d.box[3] <= 48 && d.box[0] <= d.box[2] && d.box[1] <= d.box[3], JSON.stringify(d.box));
    }
    assert.ok(fs.existsSync(path.join(draw, '000001.png')));
  });

  it('detect applies a photo\'s EXIF orientation: its detections and size are those of the upright image', async function () {
    if (!checkpoint) this.skip();
    const source = path.join(data, 'VOC2007/JPEGImages/000001.jpg');
    const exif = path.join(tmp, 'exif.jpg');
    const upright = path.join(tmp, 'upright.png');
    await sharp(source).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(exif);
    await sharp(exif).autoOrient().png().toFile(upright);
    const out = path.join(tmp, 'oriented.json');
    const draw = path.join(tmp, 'oriented');
    const r = runCli(['detect', '--checkpoint', checkpoint, exif, upright, '--out', out, '--draw', draw, '--score-threshold', '0']);
    assert.equal(r.status, 0, r.stderr);
    const [a, b] = (JSON.parse(fs.readFileSync(out, 'utf8')) as { images: Array<{ width: number; height: number; detections: unknown[] }> }).images;
    assert.deepEqual([a.width, a.height], [48, 64]);
    assert.ok(a.detections.length > 0);
    assert.deepEqual(a.detections, b.detections);
    // the picture is upright too: the same size as the PNG's
    const [pa, pb] = await Promise.all(['exif.png', 'upright.png'].map((f) => sharp(path.join(draw, f)).metadata()));
    assert.deepEqual([pa.width, pa.height], [pb.width, pb.height]);
    assert.ok(pa.height! > pa.width!, `${pa.width}x${pa.height}`);
  });

  it('evaluate --json prints VOC and COCO metrics in [0, 1] and writes comp4 files', function () {
    if (!checkpoint) this.skip();
    const results = path.join(tmp, 'results');
    // the train split holds both classes, so no class is without ground truth (that AP would be NaN)
    const r = runCli(['evaluate', '--checkpoint', checkpoint, '--data', data, '--format', 'voc', '--split', 'train', '--results', results, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout) as { voc: { mAP07: number; mAPArea: number }; coco: { stats: number[] } };
    assert.deepEqual(Object.keys(m), ['voc', 'coco']);
    for (const v of [m.voc.mAP07, m.voc.mAPArea]) assert.ok(v >= 0 && v <= 1, `${v}`);
    assert.equal(m.coco.stats.length, 12);
    // small/medium/large area ranges may be empty here: pycocotools prints -1 for those
    for (const v of m.coco.stats) assert.ok(v === -1 || (v >= 0 && v <= 1), `${v}`);
    assert.deepEqual(fs.readdirSync(results).sort(), ['comp4_det_test_circle.txt', 'comp4_det_test_square.txt']);
  });

  it('a bad flag or a missing checkpoint is one error line and exit 1', function () {
    const r = runCli(['evaluate', '--checkpoint', path.join(tmp, 'nope.safetensors'), '--data', data, '--format', 'yolo']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'resdet: error: --format: expected voc or coco, got "yolo"\n');
  });

  it('resume continues from the checkpoint step and matches an uninterrupted run exactly', async function () {
    await initBackend();
    const opts = { data, format: 'voc' as const, preset: 'shapes' as const, minSize: 32, maxSize: 48, batchSize: 2, checkpointEvery: 1, quiet: true };
    const straight = await trainDetector({ ...opts, out: path.join(tmp, 'straight'), iterations: 2 });
    const first = await trainDetector({ ...opts, out: path.join(tmp, 'split'), iterations: 1 });
    const resumed = await trainDetector({ ...opts, out: path.join(tmp, 'split'), iterations: 2, resume: true });
    assert.deepEqual([straight.step, first.step, resumed.step, resumed.stepsThisRun], [2, 1, 2, 1]);
    const a = loadCheckpoint(straight.checkpoint);
    const b = loadCheckpoint(resumed.checkpoint);
    try {
      assert.deepEqual([...b.model.keys()], [...a.model.keys()]);
      for (const [name, t] of a.model) assert.deepEqual(b.model.get(name)!.dataSync(), t.dataSync(), name);
      for (const [name, t] of a.optimizer) assert.deepEqual(b.optimizer.get(name)!.dataSync(), t.dataSync(), name);
      assert.deepEqual(b.rng, a.rng);
    } finally {
      disposeCheckpoint(a);
      disposeCheckpoint(b);
    }
  });
});
