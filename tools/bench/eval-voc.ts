/**
 * Speed of `resdet eval voc` on a synthetic PASCAL VOC 2007 test-sized set: 4,952 images,
 * 20 classes, ~3 objects per image (10% difficult), 100 detections per image (jittered true
 * positives plus random false positives), written as real VOC XML and comp4 results files.
 * Prints one JSON object: counts, the end-to-end CLI wall time, and the in-process phases.
 *
 *     npm run bench:eval-voc [-- --images N --dets-per-image K --seed S]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VOC_CLASSES } from '../../datasets/voc/classes.ts';
import { loadVocImages, readImageSet } from '../../datasets/voc/devkit.ts';
import type { Box, VocDetection } from '../../datasets/voc/records.ts';
import { readVocResultsDir, writeVocResultsDir } from '../../datasets/voc/results.ts';
import { VocEvaluator } from '../../src/eval/voc.ts';
import { Rng } from '../../src/random.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const nImages = arg('images', 4952);
const detsPerImage = arg('dets-per-image', 100);
const rng = new Rng(arg('seed', 0));
const W = 500;
const H = 375;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-bench-voc-'));
try {
  fs.mkdirSync(path.join(root, 'Annotations'));
  fs.mkdirSync(path.join(root, 'ImageSets/Main'), { recursive: true });
  const ids: string[] = [];
  const dets: VocDetection[] = [];
  let nObjects = 0;
  for (let i = 0; i < nImages; i++) {
    const id = String(i + 1).padStart(6, '0');
    ids.push(id);
    const objects: string[] = [];
    const nObj = rng.int(1, 6);
    for (let k = 0; k < nObj; k++) {
      const name = VOC_CLASSES[rng.int(0, 20)];
      const w = rng.int(20, 300);
      const h = rng.int(20, 250);
      const xmin = rng.int(1, W - w);
      const ymin = rng.int(1, H - h);
      const difficult = rng.next() < 0.1 ? 1 : 0;
      objects.push(`<object><name>${name}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>${difficult}</difficult>`
        + `<bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${xmin + w}</xmax><ymax>${ymin + h}</ymax></bndbox></object>`);
      nObjects++;
      // 0-2 jittered detections per object, score correlated with quality.
      for (let r = rng.int(0, 3); r > 0; r--) {
        const j = (s: number): number => Math.round(rng.normal() * s * 0.08 * 10) / 10;
        const box: Box = [xmin - 1 + j(w), ymin - 1 + j(h), xmin + w + j(w), ymin + h + j(h)];
        if (box[2] > box[0] + 1 && box[3] > box[1] + 1) dets.push({ imageId: id, name, score: 0.5 + 0.5 * rng.next(), box });
      }
    }
    fs.writeFileSync(path.join(root, 'Annotations', `${id}.xml`),
      `<annotation><folder>VOC2007</folder><filename>${id}.jpg</filename><size><width>${W}</width><height>${H}</height><depth>3</depth></size><segmented>0</segmented>${objects.join('')}</annotation>\n`);
    while (dets.length < (i + 1) * detsPerImage) {
      const x = rng.int(0, W - 30);
      const y = rng.int(0, H - 30);
      dets.push({ imageId: id, name: VOC_CLASSES[rng.int(0, 20)], score: 0.6 * rng.next(), box: [x, y, x + rng.int(10, W - x), y + rng.int(10, H - y)] });
    }
  }
  fs.writeFileSync(path.join(root, 'ImageSets/Main/test.txt'), `${ids.join('\n')}\n`);
  writeVocResultsDir(path.join(root, 'results'), VOC_CLASSES, dets);

  const args = ['--annotations', path.join(root, 'Annotations'), '--imageset', path.join(root, 'ImageSets/Main/test.txt'), '--dets', path.join(root, 'results')];
  const t0 = performance.now();
  const cli = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/resdet.js'), 'eval', 'voc', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const cliSeconds = (performance.now() - t0) / 1000;
  if (cli.status !== 0) throw new Error(`resdet eval voc failed: ${cli.stderr}`);
  // Each phase in-process: wall seconds and CPU seconds (the CPU time is what to compare on a
  // shared, loaded machine).
  const phase = <T>(f: () => T): [T, { wall: number; cpu: number }] => {
    const w = performance.now();
    const c = process.cpuUsage();
    const r = f();
    const d = process.cpuUsage(c);
    return [r, { wall: +((performance.now() - w) / 1000).toFixed(3), cpu: +((d.user + d.system) / 1e6).toFixed(3) }];
  };
  const [gt, loadAnnotations] = phase(() => loadVocImages(path.join(root, 'Annotations'), readImageSet(path.join(root, 'ImageSets/Main/test.txt')), { imagesDir: path.join(root, 'JPEGImages') }));
  const [read, readResults] = phase(() => readVocResultsDir(path.join(root, 'results'), VOC_CLASSES, new Set(ids)));
  const [result, evaluate] = phase(() => {
    const ev = new VocEvaluator(gt.images, { classes: VOC_CLASSES });
    ev.process(read);
    return ev.evaluate();
  });
  const out = JSON.parse(cli.stdout) as { mAP07: number; mAPArea: number };
  process.stdout.write(`${JSON.stringify({
    images: nImages, classes: VOC_CLASSES.length, gtObjects: nObjects, detections: dets.length,
    cliSeconds: +cliSeconds.toFixed(3),
    inProcessSeconds: { loadAnnotations, readResults, evaluate },
    loadAverage: os.loadavg()[0],
    mAP07: out.mAP07, mAPArea: out.mAPArea, sameAsInProcess: out.mAP07 === result.mAP07 && out.mAPArea === result.mAPArea,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
