/**
 * `resdet experiment degradation`: the paper's Figure 6 at a chosen budget. Trains plain-20,
 * plain-56, ResNet-20 and ResNet-56 on CIFAR-10 with the CIFAR recipe, each for an equal share
 * of the time budget, and plots their training (thin) and test (bold) error side by side: plain
 * nets left, ResNets right. The degradation problem (Sec. 4.2) shows as the deeper plain net
 * having the higher error, while the deeper ResNet has the lower one (with enough training).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../src/errors.ts';
import { readMetricsLog } from '../../src/train/metrics-log.ts';
import { CURVE_COLORS, curvesFromLog, errorCurvesSvg, writeSvgPng, type Panel } from '../../src/train/plot.ts';
import { CIFAR10 } from '../../tasks/classification/recipes/cifar10.ts';
import { CHECKPOINT_FILE, METRICS_FILE, trainClassifier } from '../../tasks/classification/train.ts';
import { namesFrom, positiveInt, positiveNumber } from '../flags.ts';

export const DEGRADATION_MODELS = ['plain20', 'plain56', 'resnet20', 'resnet56'] as const;

/** `plain56` -> `plain-56`, `resnet20` -> `ResNet-20`, as the paper labels them. */
export function paperName(model: string): string {
  const m = /^(plain|resnet)(\d+)$/.exec(model);
  if (!m) return model;
  return `${m[1] === 'plain' ? 'plain' : 'ResNet'}-${m[2]}`;
}

/** Panels of Figure 6 from the runs' metrics logs (plain nets left, ResNets right). */
export function degradationPanels(runs: Array<{ model: string; log: string }>): Panel[] {
  const panel = (title: string, prefix: string): Panel => ({
    title,
    curves: runs
      .filter((r) => r.model.startsWith(prefix))
      .flatMap((r, i) => curvesFromLog(readMetricsLog(r.log), paperName(r.model), CURVE_COLORS[i % CURVE_COLORS.length])),
  });
  return [panel('plain networks', 'plain'), panel('ResNets', 'resnet')];
}

interface Opts {
  budgetMinutes?: number;
  iterations?: number;
  models: Array<(typeof DEGRADATION_MODELS)[number]>;
  data: string;
  out: string;
  batchSize: number;
  evalEvery: number;
  evalImages: number;
  trainImages?: number;
  seed: number;
  quiet?: boolean;
  workers?: number;
  yMax?: number;
  plot?: string;
  plotOnly?: boolean;
}

export function registerExperiment(program: Command): void {
  const experiment = program.command('experiment').description('reproduce the paper\'s experiments at a chosen budget');
  experiment
    .command('degradation')
    .description('train plain-20/56 and ResNet-20/56 on CIFAR-10 for a time budget and plot their error curves side by side (the paper\'s Figure 6); re-running continues the runs')
    .option('--budget-minutes <m>', 'total training time, shared equally by the networks trained (default 20 without --iterations, no limit with it)', positiveNumber('--budget-minutes'))
    .option('--iterations <n>', 'train each network up to this many iterations in all (a resumed network counts what it did before)', positiveInt('--iterations'))
    .option('--models <list>', 'which networks to train, in this order, comma-separated (the plot shows every network with a log in --out)', namesFrom('--models', DEGRADATION_MODELS), [...DEGRADATION_MODELS])
    .option('--data <dir>', 'CIFAR-10 folder (train/ and test/ image folders, or the binary batches)', '../shared/data/cifar10')
    .option('--out <dir>', 'output folder (one sub-folder per network, degradation.png)', 'runs/degradation')
    .option('--batch-size <n>', 'mini-batch size (the paper: 128)', positiveInt('--batch-size'), CIFAR10.batchSize)
    .option('--eval-every <n>', 'test every this many updates', positiveInt('--eval-every'), 100)
    .option('--eval-images <n>', 'test on this many evenly spaced test images', positiveInt('--eval-images'), 1000)
    .option('--train-images <n>', 'train on a seeded random subset of N images', positiveInt('--train-images'))
    .option('--seed <n>', 'seed', (v) => Number(v), 0)
    .option('--quiet', 'no progress output')
    .option('--workers <n>', 'threads per training step, data parallel (train-classifier --workers; default 1)', positiveInt('--workers'))
    .option('--y-max <percent>', 'top of the error axis in percent (the paper\'s Figure 6: 20; default: from the curves)', positiveNumber('--y-max'))
    .option('--plot <file>', 'where to write the figure (default <out>/degradation.png)')
    .option('--plot-only', 'draw the figure from the logs in --out and train nothing')
    .action(async (o: Opts) => {
      const logged = (): Array<{ model: string; log: string }> =>
        DEGRADATION_MODELS.map((model) => ({ model, log: path.join(o.out, model, METRICS_FILE) })).filter((r) => fs.existsSync(r.log));
      const plot = o.plot ?? path.join(o.out, 'degradation.png');
      if (o.plotOnly) {
        const runs = logged();
        if (runs.length === 0) throw new UserError(`${o.out}: --plot-only: expected the runs of an earlier \`resdet experiment degradation --out ${o.out}\` (<network>/${METRICS_FILE}), found none`);
        await writeSvgPng(errorCurvesSvg(degradationPanels(runs), { yMaxPercent: o.yMax }), plot);
        process.stdout.write(`plot: ${plot}\n`);
        return;
      }
      const recipe = { ...CIFAR10, batchSize: o.batchSize, evalEvery: o.evalEvery, evalImages: o.evalImages, holdout: 0, checkpointEvery: o.evalEvery, logEvery: Math.max(1, Math.min(CIFAR10.logEvery, Math.floor(o.evalEvery / 2))) };
      const budget = o.budgetMinutes ?? (o.iterations === undefined ? 20 : undefined);
      const runs: Array<{ model: string; step: number; final: Record<string, number> }> = [];
      for (const model of o.models) {
        const out = path.join(o.out, model);
        const r = await trainClassifier({
          model,
          data: o.data,
          recipe,
          out,
          minutes: budget === undefined ? undefined : budget / o.models.length,
          iterations: o.iterations,
          resume: fs.existsSync(path.join(out, CHECKPOINT_FILE)),
          seed: o.seed,
          quiet: o.quiet,
          label: paperName(model),
          trainImages: o.trainImages,
          workers: o.workers,
        });
        runs.push({ model, step: r.step, final: r.final });
      }
      await writeSvgPng(errorCurvesSvg(degradationPanels(logged()), { yMaxPercent: o.yMax }), plot);
      for (const r of runs) {
        const test = r.final.test_error;
        process.stdout.write(`${paperName(r.model)}: ${r.step} iterations, test error ${test === undefined ? '-' : `${(100 * test).toFixed(2)}%`}\n`);
      }
      process.stdout.write(`plot: ${plot}\n`);
    });
}
