/**
 * Issue 12's acceptance: the page of `resdet serve`, in real headless Chromium (Debian's
 * `chromium` package driven by playwright-core; no browser download), on the wasm backend
 * chosen with the page's own selector, reports the same detections as `resdet detect` on the
 * same images: same labels, boxes within 0.5 px, scores within 1e-3. The detector is trained in
 * the test (2 updates on a tiny shapes set: the comparison needs a real checkpoint, not a good
 * one) and the images include sizes other than the training images', a portrait one and one
 * with an EXIF orientation (both sides detect it upright), so the shared resize runs on both sides. Node runs `resdet --backend wasm detect`: the same kernels
 * as the page, so the comparison tests the page's decoding, resize and map-back, not two
 * backends' float rounding.
 *
 * Also: a non-image file, a too large image and a checkpoint that is not a detector each give
 * a message in the page.
 *
 * Skips with one line when no Chromium is installed (`apt-get install chromium`; set
 * RESDET_CHROMIUM to use another binary, only that one).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from '../../src/train/checkpoint.ts';
import { encodeSafetensors } from '../../src/weights/safetensors.ts';
import type { DetectJson } from '../../tools/commands/detect.ts';
import { serveSite } from '../../tools/web/server.ts';
import { writeSite } from '../../tools/web/site.ts';
import type { PageState } from '../../tools/web/page.ts';
import { REPO_ROOT, runCli } from '../helpers/cli.ts';
import { TINY_DETECTOR_FLAGS, tinyShapesArgs } from '../helpers/tiny-shapes.ts';
import { tmpDir } from '../helpers/tmp.ts';

/** The Chromium binary to drive, if one is installed. */
function findChromium(): string | undefined {
  const candidates = process.env.RESDET_CHROMIUM ? [process.env.RESDET_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c) => fs.existsSync(c));
}

type Browser = import('playwright-core').Browser;
type Page = import('playwright-core').Page;

/** Starts `resdet serve` on a free port; resolves with the child and the URL it printed. */
function startServe(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/resdet.js'), 'serve', '--port', '0', ...args], { cwd: REPO_ROOT });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /at (http:\/\/\S+\/) \(Ctrl-C stops\)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`resdet serve exited (${code}): ${out}${err}`)));
  });
}

/** Waits until the page is no longer loading or busy, and returns its state attribute. */
async function settled(page: Page): Promise<string> {
  await page.waitForFunction(() => !['loading', 'busy'].includes(document.querySelector('main')?.dataset.state ?? 'loading'), null, { timeout: 60_000 });
  return page.evaluate(() => document.querySelector('main')!.dataset.state!);
}

describe('browser: the served page detects as resdet detect does (headless Chromium, wasm)', function () {
  this.timeout(300_000);
  const chromium = findChromium();
  const root = tmpDir('resdet-browser-');
  let browser: Browser | undefined;
  let serve: ChildProcess | undefined;
  let page: Page;
  let checkpoint = '';
  const images: string[] = [];

  before(async function () {
    if (!chromium) {
      console.log('      browser test skipped: no Chromium found (apt-get install chromium, or set RESDET_CHROMIUM)');
      this.skip();
    }
    const data = path.join(root, 'shapes');
    const made = runCli(tinyShapesArgs(data));
    assert.equal(made.status, 0, made.stderr);
    const trained = runCli(['train-detector', '--data', data, '--format', 'voc', '--preset', 'shapes', '--iterations', '2', '--out', path.join(root, 'run'), ...TINY_DETECTOR_FLAGS]);
    assert.equal(trained.status, 0, trained.stderr);
    checkpoint = path.join(root, 'run', 'checkpoint.safetensors');
    // held-out images: the set's two test JPEGs (64x48, the model's input is 43x32 at
    // --min-size 32), PNGs of other sizes, one portrait, and a JPEG with an EXIF orientation,
    // made from a training image
    const jpegs = path.join(data, 'VOC2007', 'JPEGImages');
    const test = fs.readFileSync(path.join(data, 'VOC2007', 'ImageSets', 'Main', 'test.txt'), 'utf8').trim().split('\n');
    images.push(...test.map((id) => path.join(jpegs, `${id}.jpg`)));
    const src = path.join(jpegs, '000001.jpg');
    images.push(path.join(root, 'wide-97x61.png'), path.join(root, 'portrait-50x83.png'), path.join(root, 'exif-6.jpg'));
    await sharp(src).resize(97, 61, { fit: 'fill' }).png().toFile(images[images.length - 3]);
    await sharp(src).rotate(90).resize(50, 83, { fit: 'fill' }).png().toFile(images[images.length - 2]);
    // a phone photo: stored 64x48, EXIF orientation 6, shown (and detected) upright as 48x64
    await sharp(src).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(images[images.length - 1]);

    ({ child: serve } = await startServe(['--checkpoint', checkpoint]).then(async (s) => {
      const { chromium: driver } = await import('playwright-core');
      browser = await driver.launch({ executablePath: chromium, args: ['--no-sandbox'] });
      page = await browser.newPage();
      await page.goto(s.url);
      return s;
    }));
  });

  after(async () => {
    await browser?.close();
    if (serve && serve.exitCode === null) {
      const exited = new Promise((resolve) => serve!.once('exit', resolve));
      serve.kill('SIGINT');
      await exited;
    }
  });

  it('loads the detector; the backend selector switches it to wasm', async () => {
    assert.equal(await settled(page), 'ready', await page.textContent('#message') ?? '');
    await page.selectOption('#backend', 'wasm');
    assert.equal(await settled(page), 'ready', await page.textContent('#message') ?? '');
    assert.equal(await page.evaluate(() => window.resdet?.backend), 'wasm');
    assert.match(await page.textContent('#model') ?? '', /resnet18 Faster R-CNN, 2 classes \(circle, square\), 2 updates\. Backend: wasm\./);
  });

  it('images submitted through the file input: the labels, boxes (0.5 px) and scores (1e-3) of resdet detect', async () => {
    const out = path.join(root, 'node.json');
    const node = runCli(['--backend', 'wasm', 'detect', '--checkpoint', checkpoint, ...images, '--score-threshold', '0', '--out', out]);
    assert.equal(node.status, 0, node.stderr);
    const expected = (JSON.parse(fs.readFileSync(out, 'utf8')) as DetectJson).images;
    await page.fill('#threshold', '0');
    let compared = 0;
    const tensors: number[] = [];
    for (const [i, file] of images.entries()) {
      await page.setInputFiles('#file', file);
      await page.waitForFunction((n) => (window.resdet?.results.length ?? 0) >= n || !!window.resdet?.lastError, i + 1, { timeout: 60_000 });
      const state = await page.evaluate(() => window.resdet as PageState);
      assert.equal(state.lastError, undefined, file);
      const got = state.results[i];
      const want = expected[i];
      assert.equal(got.file, path.basename(file));
      assert.equal(got.backend, 'wasm');
      assert.deepEqual([got.width, got.height], [want.width, want.height], file);
      assert.equal(got.detections.length, want.detections.length, `${file}: number of detections`);
      assert.ok(want.detections.length > 0, `${file}: no detections to compare`);
      got.detections.forEach((d, k) => {
        const w = want.detections[k];
        assert.equal(d.label, w.label, `${file} #${k} label`);
        assert.ok(Math.abs(d.score - w.score) <= 1e-3, `${file} #${k} score ${d.score} vs ${w.score}`);
        d.box.forEach((v, j) => assert.ok(Math.abs(v - w.box[j]) <= 0.5, `${file} #${k} box ${JSON.stringify(d.box)} vs ${JSON.stringify(w.box)}`));
        compared++;
      });
      // the table lists the same detections, with their exact numbers
      const rows = await page.$$eval('#detections tbody tr', (trs) => trs.map((tr) => ({ label: (tr as HTMLElement).dataset.label, score: Number((tr as HTMLElement).dataset.score) })));
      assert.deepEqual(rows, got.detections.map((d) => ({ label: d.label, score: d.score })));
      // labels as resdet detect --draw places them: on the canvas, none over another
      const [cw, ch] = await page.$eval('#canvas', (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
      const labels = state.lastLabels ?? [];
      assert.equal(labels.length, got.detections.length, `${file}: one label slot per detection`);
      const shown = labels.filter((l) => l !== undefined);
      assert.ok(shown.length > 0, `${file}: no label drawn`);
      shown.forEach((a, m) => {
        assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.width <= cw && a.y + a.height <= ch, `${file}: label ${JSON.stringify(a)} off the ${cw}x${ch} canvas`);
        for (const b of shown.slice(m + 1)) assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${file}: labels ${a.text} and ${b.text} overlap`);
      });
      tensors.push(await page.evaluate(async () => ((await import(String('/resdet.js'))) as { tensorCount(): number }).tensorCount()));
    }
    // the first image folds the batch norms once (cached for the page's life); after it, flat
    assert.deepEqual(tensors.slice(1), tensors.slice(1).map(() => tensors[0]), `live tensors after each image: ${tensors}`);
    console.log(`      ${compared} detections on ${images.length} images (${images.map((f) => path.basename(f)).join(', ')}) equal resdet detect's`);
    assert.match(await page.textContent('#caption') ?? '', /backend wasm, [\d.]+ ms per image/);
    await page.screenshot({ path: path.join(root, 'page.png'), fullPage: true });
  });

  it('a non-image file and a too large image are messages in the page, which keeps working', async () => {
    const text = path.join(root, 'notes.txt');
    fs.writeFileSync(text, 'not an image');
    const before = await page.evaluate(() => window.resdet!.results.length);
    await page.setInputFiles('#file', text);
    await page.waitForFunction(() => !!window.resdet?.lastError, null, { timeout: 30_000 });
    assert.match(await page.textContent('#message') ?? '', /^notes\.txt: expected an image \(JPEG, PNG, WebP, \.\.\.\), the browser could not decode it/);
    assert.equal(await page.evaluate(() => document.querySelector('#message')!.classList.contains('error')), true);
    // 4600 x 4400 = 20.24 Mpx, over the page's 20 Mpx
    const huge = path.join(root, 'huge.png');
    await sharp({ create: { width: 4600, height: 4400, channels: 3, background: '#808080' } }).png().toFile(huge);
    await page.evaluate(() => {
      window.resdet!.lastError = undefined;
    });
    await page.setInputFiles('#file', huge);
    await page.waitForFunction(() => !!window.resdet?.lastError, null, { timeout: 60_000 });
    assert.match(await page.textContent('#message') ?? '', /^huge\.png: the image is 4600x4400 \(20\.2 Mpx\); the page accepts up to 20 Mpx/);
    assert.equal(await settled(page), 'ready');
    assert.equal(await page.evaluate(() => window.resdet!.results.length), before);
  });

  it('a site whose checkpoint is not a detector says so in the page', async () => {
    // the served site with its weights swapped for a classifier's checkpoint (resdet export
    // refuses one; a hand-edited or broken site may still hold one)
    const site = path.join(root, 'bad-site');
    await writeSite(site, { checkpoint });
    const state = JSON.stringify({ step: 1, config: { model: 'resnet20' }, rng: {}, schedule: null, extra: {} });
    fs.writeFileSync(path.join(site, 'model.safetensors'), encodeSafetensors(new Map([['model.w', { shape: [1], data: new Float32Array(1) }]]), { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, state }));
    const server = await serveSite(site, '127.0.0.1', 0);
    try {
      const bad = await browser!.newPage();
      await bad.goto(`${server.url}?backend=wasm`);
      assert.equal(await settled(bad), 'error');
      assert.match(await bad.textContent('#message') ?? '', /^Cannot run the detector: checkpoint\.safetensors: config\.kind: expected a detector checkpoint/);
      await bad.close();
    } finally {
      await server.close();
    }
  });
});
