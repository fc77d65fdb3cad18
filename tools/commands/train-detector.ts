/**
 * `resdet train-detector`: trains Faster R-CNN on a VOC- or COCO-format set with one of the
 * paper's recipes (tasks/detection/recipes.ts). Progress goes to stderr; the last stdout line is
 * `checkpoint: PATH`.
 */
import type { Command } from 'commander';
import { initBackend } from '../../src/backend/index.ts';
import type { PixelNormName } from '../../datasets/detection/index.ts';
import { formatDuration } from '../../src/train/progress.ts';
import { RECIPE_NAMES, type RecipeName } from '../../tasks/detection/recipes.ts';
import { trainDetector } from '../../tasks/detection/train.ts';
import { parseFormat, parseIntFlag, parseIntList, parseList, parseOptionalCount, parsePositive } from '../flags.ts';

interface Flags {
  backbone?: string; data?: string; format?: string; preset?: string; weights?: string; fromScratch?: boolean; out: string;
  iterations?: string; minutes?: string; resume?: boolean; seed?: string; minSize?: string; maxSize?: string;
  split?: string; batchSize?: string; lr?: string; steps?: string; norm?: string; classes?: string; checkpointEvery?: string; quiet?: boolean; workers?: string;
}

export function registerTrainDetector(program: Command): void {
  program
    .command('train-detector')
    .description('train Faster R-CNN (paper Sec. 4.3, Appendix A) on a VOC- or COCO-format detection set; last line: checkpoint: PATH')
    .option('--data <dir>', 'dataset folder (VOC year folder or devkit, COCO root or instances JSON; commas join VOC folders, e.g. VOC2007,VOC2012); required, --resume takes the checkpoint\'s')
    .option('--format <voc|coco>', 'annotation format; required, --resume takes the checkpoint\'s')
    .option('--backbone <name>', 'resnet18|resnet34|resnet50|resnet101|resnet152|vgg16 (default: the preset\'s)')
    .option('--preset <name>', `training recipe: ${RECIPE_NAMES.join(', ')} (default: voc for --format voc, coco for coco)`)
    .option('--weights <file>', 'start from pretrained backbone weights (PyTorch .pth, safetensors, Keras .h5); the voc and coco presets need them')
    .option('--from-scratch', 'train the voc or coco preset from random weights (BN learns, nothing frozen) instead of refusing without --weights')
    .option('--out <dir>', 'folder for checkpoint.safetensors, log.jsonl and losses.png', 'runs/detector')
    .option('--iterations <n>', 'total updates (default: the preset\'s)')
    .option('--minutes <m>', 'stop after this much wall time (a checkpoint is written; --resume continues)')
    .option('--resume', 'continue from <out>/checkpoint.safetensors with its settings (flags that contradict them are refused; --iterations, --minutes, --data, --workers and --checkpoint-every may change)')
    .option('--seed <s>', 'seed of initialisation, data order, flips and samplers (default 0)')
    .option('--min-size <px>', 'shorter image side (preset: 600)')
    .option('--max-size <px>', 'cap on the longer side (preset: 1000)')
    .option('--split <name>', 'split to train on (default for VOC: the preset\'s, trainval for voc/coco and train for shapes/tiny, falling back to the other of the two when the folder lacks it; train for COCO)')
    .option('--batch-size <n>', 'images per update (preset)')
    .option('--lr <rate>', 'base learning rate (preset)')
    .option('--steps <list>', 'iterations at which the rate drops 10x, comma-separated (preset)')
    .option('--norm <name>', 'input normalisation of the weights: torchvision or caffe (preset: torchvision)')
    .option('--classes <list>', 'class names, comma-separated (VOC-format data; default from the data)')
    .option('--checkpoint-every <n>', 'write a checkpoint every n updates', '500')
    .option('--quiet', 'no progress bar')
    .option('--workers <n>', 'threads computing each step, data parallel over the batch\'s images (default 1; pass the same count on --resume for an exact continuation)')
    .action(async (f: Flags) => {
      const int = parseOptionalCount;
      const info = await initBackend();
      const result = await trainDetector({
        data: f.data,
        format: f.format === undefined ? undefined : parseFormat(f.format),
        preset: f.preset as RecipeName | undefined,
        backbone: f.backbone,
        weights: f.weights,
        fromScratch: f.fromScratch,
        out: f.out,
        iterations: int(f.iterations, '--iterations'),
        minutes: f.minutes === undefined ? undefined : parsePositive(f.minutes, '--minutes'),
        resume: f.resume,
        seed: f.seed === undefined ? undefined : parseIntFlag(f.seed, '--seed'),
        minSize: int(f.minSize, '--min-size'),
        maxSize: int(f.maxSize, '--max-size'),
        split: f.split,
        batchSize: int(f.batchSize, '--batch-size'),
        lr: f.lr === undefined ? undefined : parsePositive(f.lr, '--lr'),
        steps: f.steps === undefined ? undefined : parseIntList(f.steps, '--steps'),
        norm: f.norm as PixelNormName | undefined,
        classes: f.classes === undefined ? undefined : parseList(f.classes),
        checkpointEvery: parseIntFlag(f.checkpointEvery ?? '500', '--checkpoint-every'),
        workers: int(f.workers, '--workers'),
        quiet: f.quiet,
        onInfo: (line) => process.stderr.write(`${line}\n`),
      });
      const c = result.config;
      process.stdout.write([
        `trained ${c.backbone} Faster R-CNN on ${result.set.description}, ${c.classes.length} classes, backend ${info.chosen}`,
        `steps: ${result.step} of ${c.train.iterations} (${result.stepsThisRun} this run, ${formatDuration(result.seconds)}, ${result.imagesPerSecond.toFixed(2)} images/s)`,
        `log: ${result.logFile}`,
        `losses: ${result.plotFile}`,
        `checkpoint: ${result.checkpoint}`,
        '',
      ].join('\n'));
    });
}
