/**
 * `npm run bench:eval`: times `resdet eval coco` on a COCO val2017-sized synthetic set and prints
 * one JSON object of what was measured.
 *
 * The set (seeded, written to a temp folder and removed afterwards): 5,000 images, the 80 real
 * COCO category ids (1..90 with gaps), ~36,000 GT boxes (COCO val2017 has 36,781) with ~1.5%
 * crowd regions whose `area` is not w*h, and 100 detections per image (500,000): jittered copies
 * of GT (sometimes with the wrong class) plus false positives, boxes written the way detectron2
 * writes them (float32 values printed as doubles), scores in (0, 1).
 *
 * The CLI runs as a child process, as a user would run it: `seconds` is its wall time (process
 * start, tsx, reading, evaluating, printing); `loadSeconds`, `evalSeconds` and `peakRssMB` come
 * from the child itself (RESDET_TIMING=1), as does `cpuSeconds` (the child's user + system CPU,
 * start-up included: on a busy shared machine it moves far less than wall time); `startupSeconds` is the wall time of
 * `resdet eval coco --help`, the cost of starting the CLI at all. The JSON parse of the detections is also timed here,
 * both with resdet's typed-array scan and with plain JSON.parse, since parsing is a real share.
 * Options: --images N (default 5000), --keep (keep the temp folder).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanCocoResults } from '../../datasets/coco/results-scan.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** COCO's 80 category ids. */
const COCO_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
  35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
  67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90];

/** mulberry32: a small seeded generator, so every run evaluates the same set. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const f32 = (x: number) => Math.fround(x);

/** Writes gt.json and dets.json for `numImages` images into `dir`; returns counts. */
export function writeSyntheticCoco(dir: string, numImages: number, seed = 2016): { gt: number; crowd: number; dets: number } {
  const rand = rng(seed);
  const images: string[] = [];
  const anns: string[] = [];
  const dets: string[] = [];
  let annId = 1, crowd = 0;
  const pickCat = () => (rand() < 0.3 ? 1 : COCO_IDS[1 + Math.floor(rand() * 79)]);
  for (let i = 0; i < numImages; i++) {
    const imageId = 100000 + i * 7; // non-contiguous, like COCO's
    const W = 640, H = 360 + Math.floor(rand() * 281);
    images.push(`{"id":${imageId},"width":${W},"height":${H},"file_name":"${String(imageId).padStart(12, '0')}.jpg"}`);
    const nGt = Math.min(60, Math.floor(-Math.log(1 - rand()) * 7.8));
    const gts: Array<{ b: number[]; cat: number }> = [];
    for (let g = 0; g < nGt; g++) {
      const isCrowd = rand() < 0.015;
      const area = Math.exp(Math.log(16) + rand() * (Math.log(W * H * (isCrowd ? 0.5 : 0.3)) - Math.log(16)));
      const ar = Math.exp((rand() - 0.5) * 2.2);
      const w = Math.max(2, Math.min(W - 1, Math.sqrt(area * ar))), h = Math.max(2, Math.min(H - 1, Math.sqrt(area / ar)));
      const b = [r2(rand() * (W - w)), r2(rand() * (H - h)), r2(w), r2(h)];
      const cat = pickCat();
      const segArea = r2(b[2] * b[3] * (isCrowd ? 0.4 + 0.4 * rand() : 0.55 + 0.35 * rand()));
      anns.push(`{"id":${annId++},"image_id":${imageId},"category_id":${cat},"bbox":[${b.join(',')}],"area":${segArea},"iscrowd":${isCrowd ? 1 : 0}}`);
      if (isCrowd) crowd++;
      gts.push({ b, cat });
    }
    for (let d = 0; d < 100; d++) {
      let b: number[], cat: number, score: number;
      if (gts.length > 0 && d < 3 * gts.length && rand() < 0.8) {
        const g = gts[d % gts.length];
        const j = 0.25 * rand();
        b = g.b.map((v, k) => (k < 2 ? v + (rand() - 0.5) * j * g.b[k + 2] : v * (1 + (rand() - 0.5) * j)));
        b[0] = Math.max(0, b[0]);
        b[1] = Math.max(0, b[1]);
        cat = rand() < 0.85 ? g.cat : pickCat();
        score = Math.min(0.999, Math.max(0.01, 1 - 2 * j - 0.3 * rand()));
      } else {
        const w = 4 + rand() * 300, h = 4 + rand() * 300;
        b = [rand() * (W - w), rand() * (H - h), w, h];
        cat = pickCat();
        score = 0.005 + 0.6 * rand() * rand();
      }
      dets.push(`{"image_id":${imageId},"category_id":${cat},"bbox":[${b.map(f32).join(',')}],"score":${f32(score)}}`);
    }
  }
  const categories = COCO_IDS.map((id) => `{"id":${id},"name":"class${id}","supercategory":"thing"}`);
  fs.writeFileSync(path.join(dir, 'gt.json'), `{"images":[${images.join(',\n')}],\n"annotations":[${anns.join(',\n')}],\n"categories":[${categories.join(',\n')}]}\n`);
  fs.writeFileSync(path.join(dir, 'dets.json'), `[${dets.join(',\n')}]\n`);
  return { gt: anns.length, crowd, dets: dets.length };
}

function main(): void {
  const args = process.argv.slice(2);
  const numImages = args.includes('--images') ? Number(args[args.indexOf('--images') + 1]) : 5000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-bench-eval-'));
  try {
    const counts = writeSyntheticCoco(dir, numImages);
    const gtFile = path.join(dir, 'gt.json'), detsFile = path.join(dir, 'dets.json');
    const bytes = fs.readFileSync(detsFile);
    let t = performance.now();
    scanCocoResults(bytes);
    const scanSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    JSON.parse(bytes.toString('utf8'));
    const jsonParseSeconds = (performance.now() - t) / 1000;

    // What any resdet command costs before it starts its work (node, tsx, every command's imports).
    t = performance.now();
    spawnSync(process.execPath, [path.join(REPO, 'bin/resdet.js'), 'eval', 'coco', '--help'], { encoding: 'utf8' });
    const startupSeconds = (performance.now() - t) / 1000;

    const argv = [path.join(REPO, 'bin/resdet.js'), 'eval', 'coco', '--gt', gtFile, '--dets', detsFile, '--json'];
    t = performance.now();
    const run = spawnSync(process.execPath, argv, { env: { ...process.env, RESDET_TIMING: '1' }, encoding: 'utf8', maxBuffer: 64 << 20 });
    const seconds = (performance.now() - t) / 1000;
    if (run.status !== 0) throw new Error(`resdet eval coco failed (${run.status}): ${run.stderr}`);
    const timing = JSON.parse(/timing (.*)/.exec(run.stderr)?.[1] ?? '{}') as {
      loadSeconds: number; evalSeconds: number; loadCpuSeconds: number; evalCpuSeconds: number; cpuSeconds: number; peakRssMB: number;
    };
    const out = JSON.parse(run.stdout) as { stats: number[] };
    process.stdout.write(`${JSON.stringify({
      seconds, startupSeconds, loadSeconds: timing.loadSeconds, evalSeconds: timing.evalSeconds,
      loadCpuSeconds: timing.loadCpuSeconds, evalCpuSeconds: timing.evalCpuSeconds, cpuSeconds: timing.cpuSeconds, peakRssMB: timing.peakRssMB,
      detsParseSeconds: { resdetScan: scanSeconds, jsonParse: jsonParseSeconds },
      images: numImages, categories: COCO_IDS.length, gtBoxes: counts.gt, crowdBoxes: counts.crowd, detections: counts.dets,
      detsFileMB: bytes.length / 1e6, AP: out.stats[0], AP50: out.stats[1],
      cpus: os.cpus().length, loadAverage: os.loadavg()[0], node: process.version,
      command: `resdet eval coco --gt gt.json --dets dets.json --json`,
    })}\n`);
  } finally {
    if (!args.includes('--keep')) fs.rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
