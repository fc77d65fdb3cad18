/**
 * Recipe probes for issue 9's "real data" goal: Faster R-CNN trained from scratch on
 * ../shared/data/raccoon (160 train / 40 held out, the every-5th split of datasets/detection/load.ts)
 * under a wall-time budget, then scored on the 40 held-out images. One run per call, so probes
 * can be compared one after another on the shared machine (docs/experiments.md records them).
 *
 *   npx tsx tools/bench/raccoon.ts [--preset raccoon] [--backbone resnet18] [--min-size 160]
 *     [--max-size 272] [--batch-size 8] [--lr 0.02] [--iterations 600] [--drop-at 0.75]
 *     [--anchors 32,64,128] [--roi-batch 32] [--minutes 10] [--out /tmp/raccoon-probe] [--seed 0]
 *
 * Unset flags keep the preset's values; `--drop-at` places the single 10x drop at that fraction of
 * `--iterations`. Prints one JSON line: the settings, steps done, train seconds, images/s and the
 * VOC / COCO metrics on the held-out split. With `--minutes` the rate drop follows the iteration
 * count, so pick `--iterations` that fit the budget (a run stopped by the clock never dropped).
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/index.ts';
import { loadDetector } from '../../tasks/detection/model.ts';
import { evaluateModel } from '../../tasks/detection/pipeline.ts';
import { RECIPES, type RecipeName, type Recipe } from '../../tasks/detection/recipes.ts';
import { trainDetector } from '../../tasks/detection/train.ts';

const RACCOON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/raccoon');

function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`expected --flag value pairs, got ${argv.slice(i).join(' ')}`);
    out.set(argv[i].slice(2), argv[i + 1]);
  }
  return out;
}

async function main(): Promise<void> {
  const f = flags(process.argv.slice(2));
  const num = (k: string) => (f.has(k) ? Number(f.get(k)) : undefined);
  const preset = (f.get('preset') ?? 'shapes') as RecipeName;
  const recipe: Recipe = RECIPES[preset];
  if (!recipe) throw new Error(`--preset: no recipe ${f.get('preset')}`);
  const iterations = num('iterations') ?? recipe.iterations;
  const dropAt = num('drop-at');
  const steps = dropAt === undefined ? undefined : dropAt >= 1 ? [] : [Math.round(iterations * dropAt)];
  const detector: Recipe['detector'] = {};
  if (f.has('anchors')) detector.rpn = { anchorSizes: f.get('anchors')!.split(',').map(Number) };
  if (f.has('roi-batch')) detector.roiHeads = { batchSizePerImage: Number(f.get('roi-batch')) };
  if (f.has('pooled')) detector.roiHeads = { ...detector.roiHeads, pooledSize: Number(f.get('pooled')) };
  const out = f.get('out') ?? path.join(os.tmpdir(), 'raccoon-probe');
  await initBackend();
  const t = await trainDetector({
    data: RACCOON, format: 'voc', preset, split: 'train', out, quiet: true, checkpointEvery: 100000,
    backbone: f.get('backbone'), minSize: num('min-size'), maxSize: num('max-size'), batchSize: num('batch-size'),
    lr: num('lr'), steps, iterations, minutes: num('minutes'), seed: num('seed') ?? 0,
    detector: Object.keys(detector).length ? detector : undefined,
  });
  const { model, spec } = loadDetector(t.checkpoint);
  try {
    const ev = await evaluateModel(model, spec, { data: RACCOON, format: 'voc', split: 'test' });
    process.stdout.write(`${JSON.stringify({
      settings: Object.fromEntries(f), steps: t.step, train_s: Math.round(t.seconds), images_per_s: Number(t.imagesPerSecond.toFixed(2)),
      test_images: ev.set.records.length, test_s: Math.round(ev.seconds),
      voc07: Number(ev.metrics.voc.mAP07.toFixed(3)), vocArea: Number(ev.metrics.voc.mAPArea.toFixed(3)),
      coco50: Number(ev.metrics.coco.stats[1].toFixed(3)), coco: Number(ev.metrics.coco.stats[0].toFixed(3)),
      load: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    })}\n`);
  } finally {
    model.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
