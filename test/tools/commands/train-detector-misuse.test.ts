/**
 * Misuse of `resdet train-detector` / `detect` on the tiny shapes set: each case asserts the
 * exact one-line error (or the run that should now succeed), and that nothing in the output
 * folder changed. One real (1-update) training makes the checkpoint the resume cases use.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../../src/backend/index.ts';
import { LOCK_FILE } from '../../../src/io/lock.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import { parseUnitInterval } from '../../../tools/flags.ts';
import { trainDetector, trainSplitOf, type DetectorRunConfig } from '../../../tasks/detection/train.ts';
import { runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { makeTinyShapes } from '../../helpers/tiny-shapes.ts';

/** Every file under `dir` with its bytes, to assert that a refused run changed nothing. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)), fs.readFileSync(path.join(e.parentPath, e.name)));
  }
  return out;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('tools: train-detector misuse (tiny shapes set)', function () {
  const tmp = tmpDir('resdet-det-misuse-');
  const data = path.join(tmp, 'shapes');
  const run = path.join(tmp, 'run');
  const ckpt = path.join(run, 'checkpoint.safetensors');
  const tiny = { minSize: 32, maxSize: 48, batchSize: 2, quiet: true } as const;

  before(async function () {
    makeTinyShapes(data);
    await initBackend();
    await trainDetector({ data, format: 'voc', preset: 'tiny', out: run, iterations: 1, ...tiny });
  });

  it('--resume in short form (no --data, --format or recipe flags) continues the run with its settings, clearing a dead run\'s lock and temp files', function () {
    const dead = deadPid();
    // the lock of a killed run: its process is gone
    fs.writeFileSync(path.join(run, LOCK_FILE), JSON.stringify({ pid: dead, host: os.hostname(), started: 'x', command: 'x' }));
    const temp = path.join(run, `.checkpoint.safetensors.${dead}.1.tmp`);
    fs.writeFileSync(temp, 'half a checkpoint');
    const r = runCli(['train-detector', '--resume', '--out', run, '--iterations', '2', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /steps: 2 of 2 \(1 this run/);
    assert.ok(!fs.existsSync(temp), 'stale temp file removed');
    assert.ok(!fs.existsSync(path.join(run, LOCK_FILE)), 'lock released');
    const c = loadCheckpoint(ckpt);
    try {
      const t = (c.config as DetectorRunConfig).train;
      // the first run's flags, not the preset's defaults (batch 4, 64 px)
      assert.deepEqual([c.step, t.batchSize, t.preset, t.split, (c.config as DetectorRunConfig).input.minSize], [2, 2, 'tiny', 'train', 32]);
    } finally {
      disposeCheckpoint(c);
    }
  });

  it('--resume with a flag that contradicts the checkpoint: exit 1, one line, folder unchanged', function () {
    const before = snapshot(run);
    const r = runCli(['train-detector', '--resume', '--out', run, '--batch-size', '4']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `resdet: error: ${ckpt}: config.train.batchSize: the run being resumed has 2, --batch-size gives 4; leave --batch-size out to continue the run (on --resume only --iterations, --minutes, --data, --workers and --checkpoint-every may change)\n`);
    assert.deepEqual(snapshot(run), before);
  });

  it('--resume --data may name a moved folder, not other data', async function () {
    const fewer = path.join(tmp, 'fewer');
    fs.cpSync(data, fewer, { recursive: true });
    const list = path.join(fewer, 'VOC2007/ImageSets/Main/train.txt');
    const ids = fs.readFileSync(list, 'utf8').trim().split('\n');
    fs.writeFileSync(list, `${ids.slice(1).join('\n')}\n`);
    const before = snapshot(run);
    await assert.rejects(trainDetector({ out: run, resume: true, data: fewer, ...tiny }), (e: Error) => e.name === 'UserError'
      && e.message === `${fewer}: data: expected the data the run being resumed trained on (${ids.length} images in train), got ${ids.length - 1}`);
    assert.deepEqual(snapshot(run), before);
  });

  it('a folder held by a live run is refused before anything is read or written', async function () {
    const lock = path.join(run, LOCK_FILE);
    // this test process is alive: its lock holds the folder
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), started: '2026-01-01T00:00:00.000Z', command: 'resdet train-detector' }));
    const before = snapshot(run);
    try {
      await assert.rejects(trainDetector({ out: run, resume: true, ...tiny }), (e: Error) => e.name === 'UserError'
        && e.message === `${lock}: out ${run} is in use by another run (pid ${process.pid} on ${os.hostname()} since 2026-01-01T00:00:00.000Z: resdet train-detector); wait for it to finish or choose another out`);
      assert.deepEqual(snapshot(run), before);
    } finally {
      fs.rmSync(lock);
    }
  });

  it('a fresh run on a folder with a checkpoint is refused, the folder unchanged', async function () {
    const before = snapshot(run);
    await assert.rejects(trainDetector({ data, format: 'voc', preset: 'tiny', out: run, ...tiny }), new RegExp(`^UserError: ${ckpt}: a checkpoint is already there; pass resume`));
    assert.deepEqual(snapshot(run), before);
  });

  it('--preset voc without --weights is refused (the recipe fine-tunes under frozen BN); no folder is made', async function () {
    const out = path.join(tmp, 'voc-scratch');
    await assert.rejects(trainDetector({ data, format: 'voc', preset: 'voc', out, ...tiny }), (e: Error) => e.name === 'UserError'
      && e.message === 'weights: preset voc fine-tunes resnet101 from ImageNet weights under frozen BN (the paper\'s recipe); from random weights it diverges. Pass weights FILE, or fromScratch to train from random weights with BN learning');
    assert.ok(!fs.existsSync(out));
  });

  it('the default VOC split follows --help: the preset\'s, falling back between trainval and train', function () {
    // make-shapes writes train/val/test; a devkit may have only trainval/test
    const devkit = path.join(tmp, 'devkit');
    fs.cpSync(data, devkit, { recursive: true });
    const sets = path.join(devkit, 'VOC2007', 'ImageSets', 'Main');
    fs.renameSync(path.join(sets, 'train.txt'), path.join(sets, 'trainval.txt'));
    for (const preset of ['shapes', 'tiny', 'voc'] as const) {
      assert.equal(trainSplitOf({ preset }, devkit, 'voc'), 'trainval', preset);
      assert.equal(trainSplitOf({ preset }, data, 'voc'), 'train', preset);
    }
    assert.equal(trainSplitOf({ preset: 'tiny', split: 'val' }, devkit, 'voc'), 'val');
    assert.equal(trainSplitOf({}, data, 'coco'), 'train');
  });

  it('an object outside its image is one warning; a corrupt image is named before training starts; no folder is made', async function () {
    const broken = path.join(tmp, 'broken');
    fs.cpSync(data, broken, { recursive: true });
    const ids = fs.readFileSync(path.join(broken, 'VOC2007/ImageSets/Main/train.txt'), 'utf8').trim().split('\n');
    // the images are 64x48 (or 48x64): xmin 70 starts past either width
    const xml = path.join(broken, 'VOC2007/Annotations', `${ids[0]}.xml`);
    fs.writeFileSync(xml, fs.readFileSync(xml, 'utf8').replace('</annotation>',
      '<object><name>circle</name><difficult>0</difficult><bndbox><xmin>70</xmin><ymin>1</ymin><xmax>80</xmax><ymax>10</ymax></bndbox></object></annotation>'));
    const bad = path.join(broken, 'VOC2007/JPEGImages', `${ids.at(-1)}.jpg`);
    fs.writeFileSync(bad, 'not a jpeg at all');
    const out = path.join(tmp, 'broken-run');
    const warnings: string[] = [];
    await assert.rejects(trainDetector({ data: broken, format: 'voc', preset: 'tiny', out, ...tiny, onWarning: (l) => warnings.push(l) }), (e: Error) => e.name === 'UserError'
      && e.message.startsWith(`${bad}: expected a readable image (JPEG, PNG, WebP...), could not read its header: `) && !e.message.includes('\n'));
    assert.deepEqual(warnings, [`1 objects in 1 images lie outside their image or are under 1 pixel wide or high after clipping to it; training leaves them out (first: ${xml} (image ${ids[0]}))`]);
    assert.ok(!fs.existsSync(out));
  });

  it('detect --score-threshold: a number in [0, 1]; 2 is one error line', function () {
    for (const ok of ['0', '0.0', '0.5', '1']) assert.equal(parseUnitInterval(ok, '--score-threshold'), Number(ok));
    for (const bad of ['2', '-0.1', '1.01', 'abc', '', 'NaN']) {
      assert.throws(() => parseUnitInterval(bad, '--score-threshold'), { name: 'UserError', message: `--score-threshold: expected a number from 0 to 1, got ${JSON.stringify(bad)}` });
    }
    const r = runCli(['detect', '--checkpoint', ckpt, path.join(data, 'VOC2007/JPEGImages/000001.jpg'), '--score-threshold', '2']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'resdet: error: --score-threshold: expected a number from 0 to 1, got "2"\n');
  });
});
