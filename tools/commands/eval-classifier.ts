/**
 * `resdet eval-classifier`: top-1 / top-5 accuracy of a backbone with imported weights over an
 * image-folder tree (one folder per class; sorted folder names give the class indices, as
 * torchvision's ImageFolder), e.g.
 *   resdet eval-classifier --model resnet20 --weights resnet20-12fca82f.th --data cifar10/test --json
 */
import type { Command } from 'commander';
import { readImageFolder } from '../../datasets/classification/image-folder.ts';
import { initBackend } from '../../src/backend/index.ts';
import { evaluateClassifier } from '../../tasks/classification/evaluate.ts';
import { loadClassifier, PREPROCESS_NAMES, type PreprocessName } from '../../tasks/classification/predict.ts';
import { positiveInt } from '../flags.ts';
import { WEIGHT_FORMATS, type WeightFormat } from '../../src/weights/import.ts';

/** Flags shared by classify and eval-classifier. */
export interface ClassifierFlags {
  model: string;
  weights: string;
  preprocess: PreprocessName;
  format: WeightFormat;
  numClasses?: number;
  strideInFirst1x1?: boolean;
}

/** Adds the model / weights / preprocessing flags to a command. */
export function classifierOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--model <name>', 'registered backbone, e.g. resnet50, resnet20 (CIFAR), vgg16')
    .requiredOption('--weights <file>', 'PyTorch checkpoint (zip or legacy), .safetensors or Keras .h5')
    .option('--preprocess <name>', `input convention: ${PREPROCESS_NAMES.join(' | ')} (caffe = BGR minus the mean pixel)`, 'torchvision')
    .option('--format <name>', `weights format: ${WEIGHT_FORMATS.join(' | ')}`, 'auto')
    .option('--num-classes <n>', 'classifier outputs (default 1000, CIFAR nets 10)', positiveInt('--num-classes'))
    .option('--stride-in-first-1x1', 'bottleneck stride on the first 1x1 (MSRA Caffe / Keras ResNets; default for Keras files)');
}

/** Adds `resdet eval-classifier` to the program. */
export function registerEvalClassifier(program: Command): void {
  const cmd = program
    .command('eval-classifier')
    .description('top-1 / top-5 accuracy of a backbone with imported weights over an image-folder tree');
  classifierOptions(cmd)
    .requiredOption('--data <dir>', 'folder with one sub-folder of images per class (sorted names = class indices)')
    .option('--ten-crop', 'average the softmax over the standard 10 crops (corners, centre and flips)')
    .option('--batch-size <n>', 'images per forward pass (default 50, 5 with --ten-crop)', positiveInt('--batch-size'))
    .option('--limit <n>', 'evaluate n images evenly spaced over the set (image floor(i * N / n)), a quick estimate over every class', positiveInt('--limit'))
    .option('--json', 'print {"top1", "top5", "images"}')
    .action(async (f: ClassifierFlags & { data: string; tenCrop?: boolean; batchSize?: number; limit?: number; json?: boolean }) => {
      const set = readImageFolder(f.data);
      await initBackend();
      const c = await loadClassifier(f.model, f);
      try {
        const started = Date.now();
        const tty = process.stderr.isTTY;
        const r = await evaluateClassifier(c, set, {
          tenCrop: f.tenCrop,
          batchSize: f.batchSize,
          limit: f.limit,
          onProgress: (done, total) => {
            if (tty) process.stderr.write(`\r${done}/${total} images`);
          },
        });
        if (tty) process.stderr.write('\n');
        const seconds = (Date.now() - started) / 1000;
        if (f.json) {
          process.stdout.write(`${JSON.stringify({ top1: r.top1, top5: r.top5, images: r.images })}\n`);
          return;
        }
        process.stdout.write(
          `${f.model} on ${f.data}: top-1 ${(100 * r.top1).toFixed(2)}% (error ${(100 - 100 * r.top1).toFixed(2)}%), ` +
            `top-5 ${(100 * r.top5).toFixed(2)}% over ${r.images} images${f.tenCrop ? ', 10-crop' : ''} in ${seconds.toFixed(1)} s\n`,
        );
      } finally {
        c.model.dispose();
      }
    });
}
