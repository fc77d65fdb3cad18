/**
 * `resdet train-classifier`: trains a backbone as an image classifier with one of the paper's
 * recipes (tasks/classification/recipes/), writing a checkpoint, a JSONL metrics log and error curves.
 * Its last output line is `checkpoint: PATH`.
 */
import type { Command } from 'commander';
import { BACKBONE_NAMES } from '../../backbones/index.ts';
import { RECIPES } from '../../tasks/classification/recipes/index.ts';
import { trainClassifier } from '../../tasks/classification/train.ts';
import { nonNegativeInt, positiveInt, positiveNumber } from '../flags.ts';

interface Opts {
  model?: string;
  data?: string;
  preset?: string;
  iterations?: number;
  minutes?: number;
  batchSize?: number;
  lr?: number;
  out: string;
  resume?: boolean;
  seed?: number;
  evalEvery?: number;
  evalImages?: number;
  checkpointEvery?: number;
  trainImages?: number;
  quiet?: boolean;
  workers?: number;
}

export function registerTrainClassifier(program: Command): void {
  program
    .command('train-classifier')
    .description('train a backbone on an image-classification set with the paper\'s recipe (SGD, momentum 0.9, weight decay 1e-4, step or plateau schedule); resumable')
    .option('--model <name>', `backbone: ${BACKBONE_NAMES.join(', ')} (required; --resume takes the checkpoint's)`)
    .option('--data <dir>', 'data folder: CIFAR-10 binary batches, MNIST idx files, or image folders train/ and test/ (or val/) (required; --resume takes the checkpoint\'s)')
    .option('--preset <name>', `recipe: ${Object.keys(RECIPES).join(', ')} (default: cifar10)`)
    .option('--iterations <n>', 'stop after this many updates in total (default: the preset\'s, 64000 for cifar10)', positiveInt('--iterations'))
    .option('--minutes <m>', 'stop after this many minutes (a checkpoint is written; --resume continues)', positiveNumber('--minutes'))
    .option('--batch-size <n>', 'mini-batch size (default: the preset\'s)', positiveInt('--batch-size'))
    .option('--lr <rate>', 'base learning rate (default: the preset\'s)', positiveNumber('--lr'))
    .option('--out <dir>', 'output folder (checkpoint.safetensors, metrics.jsonl, curves.png)', 'runs/classifier')
    .option('--resume', 'continue from <out>/checkpoint.safetensors exactly where it stopped, with its settings (flags that contradict them are refused; --iterations, --minutes, --workers, --data and the --eval-*/--checkpoint-every flags may change)')
    .option('--seed <n>', 'seed of initialisation, data order and augmentation (default 0)', nonNegativeInt('--seed'))
    .option('--eval-every <n>', 'evaluate every this many updates (default: the preset\'s)', positiveInt('--eval-every'))
    .option('--eval-images <n>', 'evaluate on the first N images of each evaluation set', positiveInt('--eval-images'))
    .option('--checkpoint-every <n>', 'write a checkpoint every this many updates (default: the preset\'s)', positiveInt('--checkpoint-every'))
    .option('--train-images <n>', 'train on a seeded random subset of N images (quick runs)', positiveInt('--train-images'))
    .option('--quiet', 'no progress bar or progress lines')
    .option('--workers <n>', 'threads computing each step, data parallel: the batch is split into n shards, BN statistics per shard (default 1, or the checkpoint\'s on --resume; 2 puts both cores of a 2-core machine to work)', positiveInt('--workers'))
    .action(async (o: Opts) => {
      const overrides = { batchSize: o.batchSize, lr: o.lr, evalEvery: o.evalEvery, evalImages: o.evalImages, checkpointEvery: o.checkpointEvery };
      const r = await trainClassifier({
        model: o.model, data: o.data, preset: o.preset, overrides, out: o.out, iterations: o.iterations, minutes: o.minutes, resume: o.resume, seed: o.seed,
        quiet: o.quiet, trainImages: o.trainImages, workers: o.workers,
      });
      const metrics = Object.entries(r.final).map(([k, v]) => `${k} ${(100 * v).toFixed(2)}%`);
      process.stdout.write(`step: ${r.step}${metrics.length ? `, ${metrics.join(', ')}` : ''}\nmetrics: ${r.metricsLog}\nplot: ${r.plot}\ncheckpoint: ${r.checkpoint}\n`);
    });
}
