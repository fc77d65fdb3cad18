import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../helpers/cli.ts';
import { writeTinyCifar } from '../../helpers/tiny-cifar.ts';
import { degradationPanels, paperName, DEGRADATION_MODELS } from '../../../tools/commands/experiment.ts';

describe('resdet experiment degradation', () => {
  it('names networks as the paper does and splits them into plain / ResNet panels', () => {
    assert.deepEqual(DEGRADATION_MODELS.map(paperName), ['plain-20', 'plain-56', 'ResNet-20', 'ResNet-56']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-exp-'));
    try {
      const runs = DEGRADATION_MODELS.map((model, i) => {
        const log = path.join(dir, `${model}.jsonl`);
        fs.writeFileSync(log, `${JSON.stringify({ kind: 'train', step: 10, error: 0.5 + i / 10 })}\n${JSON.stringify({ kind: 'eval', step: 10, test_error: 0.6 })}\n`);
        return { model, log };
      });
      const [plain, res] = degradationPanels(runs);
      assert.equal(plain.title, 'plain networks');
      assert.deepEqual(plain.curves.map((c) => `${c.label} ${c.style}`), ['plain-20 train', 'plain-20 test', 'plain-56 train', 'plain-56 test']);
      assert.deepEqual(res.curves.map((c) => c.label), ['ResNet-20', 'ResNet-20', 'ResNet-56', 'ResNet-56']);
      assert.deepEqual(res.curves[2].points, [[10, 0.8]]);
      // same colour for a depth in both panels, as in Figure 6
      assert.equal(plain.curves[2].color, res.curves[2].color);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--models trains the chosen networks to --iterations in all; a rerun continues them, and the plot keeps every logged network', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-exp-'));
    try {
      writeTinyCifar(dir);
      const out = path.join(dir, 'runs');
      const steps = (model: string): number[] => fs.readFileSync(path.join(out, model, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'eval').map((r) => r.step);
      const run = (models: string, iterations: number) => runCli(['experiment', 'degradation', '--data', dir, '--out', out, '--models', models, '--iterations', String(iterations), '--batch-size', '4', '--eval-every', '2', '--eval-images', '4', '--quiet']);
      const first = run('resnet20', 2);
      assert.equal(first.status, 0, first.stderr);
      assert.equal(first.stdout, `ResNet-20: 2 iterations, test error ${/test error (\S+)/.exec(first.stdout)?.[1]}\nplot: ${path.join(out, 'degradation.png')}\n`);
      assert.deepEqual(fs.readdirSync(out).sort(), ['degradation.png', 'resnet20']);
      const second = run('plain20,resnet20', 3);
      assert.equal(second.status, 0, second.stderr);
      assert.match(second.stdout, /^plain-20: 3 iterations, .*\nResNet-20: 3 iterations, /);
      assert.deepEqual(steps('resnet20'), [2, 3]);
      assert.deepEqual(steps('plain20'), [2, 3]);
      // the figure again from the logs alone, with the paper's 0-20% axis; nothing trains
      const zoom = path.join(dir, 'zoom.png');
      const plotted = runCli(['experiment', 'degradation', '--out', out, '--plot-only', '--y-max', '20', '--plot', zoom]);
      assert.equal(plotted.status, 0, plotted.stderr);
      assert.equal(plotted.stdout, `plot: ${zoom}\n`);
      assert.ok(fs.statSync(zoom).size > 1000);
      assert.deepEqual(steps('resnet20'), [2, 3]);
      const empty = runCli(['experiment', 'degradation', '--out', path.join(dir, 'none'), '--plot-only']);
      assert.equal(empty.status, 1);
      assert.match(empty.stderr, /none: --plot-only: expected the runs of an earlier `resdet experiment degradation --out .*none` \(<network>\/metrics\.jsonl\), found none/);
      const bad = run('resnet20,vgg16', 3);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /--models: expected names from plain20, plain56, resnet20, resnet56, got "vgg16"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
