/**
 * `resdet detect`: runs a trained detector on image files; writes the detections as JSON and,
 * with `--draw DIR`, each image with its labelled boxes.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { initBackend } from '../../src/backend/index.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { drawDetections } from '../../tasks/detection/draw.ts';
import { detectRecords, imageRecord } from '../../tasks/detection/inference.ts';
import { loadDetector, mapperOptions } from '../../tasks/detection/model.ts';
import { parseUnitInterval } from '../flags.ts';

/** The JSON `resdet detect` writes. */
export interface DetectJson {
  checkpoint: string;
  classes: string[];
  images: Array<{
    file: string;
    width: number;
    height: number;
    /** boxes [x1, y1, x2, y2] in image pixels, scores descending */
    detections: Array<{ label: string; score: number; box: [number, number, number, number] }>;
  }>;
}

export function registerDetect(program: Command): void {
  program
    .command('detect')
    .description('detect objects in images with a trained detector; writes JSON and, with --draw, pictures')
    .requiredOption('--checkpoint <file>', 'a checkpoint written by resdet train-detector')
    .argument('<images...>', 'image files')
    .option('--out <file>', 'write the detections JSON here (default: stdout)')
    .option('--draw <dir>', 'write each image with its labelled boxes (PNG) to this folder')
    .option('--score-threshold <s>', 'keep detections with at least this score, from 0 (all) to 1', '0.5')
    .action(async (images: string[], f: { checkpoint: string; out?: string; draw?: string; scoreThreshold: string }) => {
      const threshold = parseUnitInterval(f.scoreThreshold, '--score-threshold');
      await initBackend();
      const records = await Promise.all(images.map((file) => imageRecord(path.resolve(file))));
      const { model, spec } = loadDetector(f.checkpoint);
      try {
        const dets = await detectRecords(model, records, mapperOptions(spec), { scoreThreshold: threshold });
        const json: DetectJson = {
          checkpoint: path.resolve(f.checkpoint),
          classes: spec.classes,
          images: records.map((r, i) => ({
            file: images[i], width: r.width, height: r.height,
            detections: Array.from(dets[i].labels, (label, k) => ({
              label: spec.classes[label],
              score: dets[i].scores[k],
              box: Array.from(dets[i].boxes.subarray(4 * k, 4 * k + 4)) as [number, number, number, number],
            })),
          })),
        };
        const text = `${JSON.stringify(json, null, 1)}\n`;
        if (f.out) {
          fs.mkdirSync(path.dirname(path.resolve(f.out)), { recursive: true });
          writeFileAtomic(path.resolve(f.out), text);
        } else {
          process.stdout.write(text);
        }
        if (f.draw) {
          fs.mkdirSync(f.draw, { recursive: true });
          for (const [i, r] of records.entries()) {
            const out = path.join(f.draw, `${path.parse(images[i]).name}.png`);
            await drawDetections(r.imagePath, r, dets[i], spec.classes, out);
            process.stderr.write(`drew ${dets[i].scores.length} detections: ${out}\n`);
          }
        }
        if (f.out) process.stderr.write(`wrote ${dets.reduce((a, d) => a + d.scores.length, 0)} detections on ${records.length} images: ${f.out}\n`);
      } finally {
        model.dispose();
      }
    });
}
