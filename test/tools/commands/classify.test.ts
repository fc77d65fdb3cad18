import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { REPO_ROOT, runCli, SHARED_DATA } from '../../helpers/cli.ts';
import { requireShared } from '../../helpers/shared.ts';
import { registerEvalClassifier } from '../../../tools/commands/eval-classifier.ts';

const WEIGHTS = path.join(SHARED_DATA, 'cifar10-resnet');
const TEST = path.join(SHARED_DATA, 'cifar10/test');
const R20 = path.join(WEIGHTS, 'resnet20-12fca82f.th');

/** Runs `fn`, returning what it wrote to stdout (and keeping it off the test report). */
async function captureStdout(fn: () => Promise<unknown>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let text = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return text;
}

describe('resdet classify / eval-classifier', function () {
  before(function () {
    requireShared(this, WEIGHTS);
    requireShared(this, TEST);
  });

  it('classify --json prints logits and top-5 per image (resnet20, reference logits within 1e-3)', () => {
    const ref = JSON.parse(fs.readFileSync(path.join(WEIGHTS, 'reference_outputs.json'), 'utf8')) as { sample_logits: Record<string, Array<{ file: string; logits: number[] }>> };
    const samples = ref.sample_logits.resnet20.filter((s) => s.file === 'airplane/0000.jpg' || s.file === 'cat/0001.jpg');
    const r = runCli(['classify', '--model', 'resnet20', '--weights', R20, '--json', ...samples.map((s) => path.join(TEST, s.file))]);
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { results: Array<{ file: string; logits: number[]; top5: Array<{ index: number; class: string; prob: number }> }> };
    assert.equal(json.results.length, 2);
    json.results.forEach((res, i) => {
      assert.equal(res.file, path.join(TEST, samples[i].file));
      res.logits.forEach((v, j) => assert.ok(Math.abs(v - samples[i].logits[j]) < 1e-3, `${res.file}[${j}]: ${v} vs ${samples[i].logits[j]}`));
      assert.equal(res.top5.length, 5);
    });
    // airplane/0000.jpg: reference logits 7.89 (airplane) > 6.97 (ship) > 4.21 (truck)
    assert.deepEqual(json.results[0].top5.slice(0, 3).map((t) => t.class), ['airplane', 'ship', 'truck']);
  });

  it('eval-classifier --limit 10 --json: the first image of each class, PyTorch top-1', async () => {
    const subset = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test/fixtures/weights/cifar-subset-reference.json'), 'utf8')) as { files: string[]; labels: number[]; resnet20: { predictions: number[] } };
    // --limit 10 evaluates records floor(i * 10000 / 10) = <class i>/0000.jpg, all in the reference subset.
    const firsts = subset.files.map((f, i) => i).filter((i) => subset.files[i].endsWith('/0000.jpg'));
    assert.equal(firsts.length, 10);
    const torchTop1 = firsts.filter((i) => subset.resnet20.predictions[i] === subset.labels[i]).length / 10;
    // In-process (a second child process would cost its start-up again): the same action commander runs.
    const program = new Command().exitOverride();
    registerEvalClassifier(program);
    const stdout = await captureStdout(() => program.parseAsync(['node', 'resdet', 'eval-classifier', '--model', 'resnet20', '--weights', R20, '--data', TEST, '--limit', '10', '--json']));
    const json = JSON.parse(stdout) as { top1: number; top5: number; images: number };
    assert.equal(json.images, 10);
    assert.equal(json.top1, torchTop1);
    assert.ok(json.top5 >= json.top1 && json.top5 <= 1);
  });
});
