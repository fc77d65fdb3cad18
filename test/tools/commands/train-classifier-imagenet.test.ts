/**
 * `resdet train-classifier --preset imagenet` end to end on a tiny ImageNet-layout folder (the
 * paper's Sec. 3.4 recipe: scale augmentation to a shorter side in [256, 480], random 224 crop,
 * flip, per-channel mean, colour augmentation): two updates of a ResNet-18, an evaluation on the
 * val/ folder, a checkpoint, and an exact resume to a third update.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../../../src/backend/index.ts';
import { trainClassifier } from '../../../tasks/classification/train.ts';
import { runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';

/** Writes `n` small JPEGs of one flat colour per class under dir/<split>/<class>/. */
async function writeFolder(dir: string, split: string, n: number): Promise<void> {
  const colours: Record<string, [number, number, number]> = { red: [200, 30, 30], blue: [30, 30, 200] };
  for (const [cls, [r, g, b]] of Object.entries(colours)) {
    fs.mkdirSync(path.join(dir, split, cls), { recursive: true });
    for (let i = 0; i < n; i++) {
      // different sizes and aspect ratios: the scale augmentation resizes each to its own size
      await sharp({ create: { width: 40 + 7 * i, height: 30 + 5 * i, channels: 3, background: { r, g: g + 10 * i, b } } })
        .jpeg()
        .toFile(path.join(dir, split, cls, `${i}.jpg`));
    }
  }
}

describe('resdet train-classifier --preset imagenet (tiny folder)', () => {
  it('trains a ResNet-18 with the ImageNet recipe, evaluates val/, writes a checkpoint and resumes', async function () {
    const dir = tmpDir('resdet-inet-');
    await writeFolder(dir, 'train', 3);
    await writeFolder(dir, 'val', 1);
    const out = path.join(dir, 'run');
    const args = (iterations: number) => ['train-classifier', '--preset', 'imagenet', '--model', 'resnet18', '--data', dir, '--batch-size', '2',
      '--iterations', String(iterations), '--eval-every', '2', '--checkpoint-every', '1', '--quiet', '--out', out];
    const r = runCli(args(2));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^checkpoint: ${path.join(out, 'checkpoint.safetensors').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    const rows = () => fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    const train = rows().filter((x) => x.kind === 'train');
    // the recipe's rate (0.1, no warm-up for ResNet-18) and finite losses
    assert.ok(train.length >= 1 && train.every((x) => x.lr === 0.1 && Number.isFinite(x.loss)), JSON.stringify(train));
    const evals = rows().filter((x) => x.kind === 'eval');
    assert.equal(evals.at(-1)!.step, 2);
    // 2 val images of 2 classes: the error is 0, 0.5 or 1
    assert.ok([0, 0.5, 1].includes(evals.at(-1)!.test_error as number), JSON.stringify(evals));
    const resumed = runCli([...args(3), '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(Math.max(...rows().map((x) => x.step as number)), 3);
  });

  it('names a corrupt image before the first step (headers are read up front); no output folder is made', async function () {
    const dir = tmpDir('resdet-inet-bad-');
    await writeFolder(dir, 'train', 2);
    await writeFolder(dir, 'val', 1);
    const bad = path.join(dir, 'train', 'blue', '1.jpg');
    fs.writeFileSync(bad, fs.readFileSync(bad).subarray(0, 2)); // the JPEG marker only: no header
    const out = path.join(dir, 'run');
    await initBackend();
    await assert.rejects(trainClassifier({ model: 'resnet18', data: dir, preset: 'imagenet', out, iterations: 1, quiet: true }), (e: Error) => e.name === 'UserError'
      && e.message.startsWith(`${bad}: expected a readable image (JPEG, PNG, WebP...), could not read its header: `) && !e.message.includes('\n'));
    assert.ok(!fs.existsSync(out));
  });
});
