/**
 * `resdet classify`: the top-5 classes of each image under a registered backbone with imported
 * weights (PyTorch .pth/.pt/.th, safetensors, Keras .h5), e.g.
 *   resdet classify --model resnet20 --weights resnet20-12fca82f.th cat.jpg
 */
import path from 'node:path';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { inputError } from '../../src/errors.ts';
import { readFileForUser } from '../../src/io/json.ts';
import { fuseForInference } from '../../src/nn/fuse.ts';
import { loadClassifier, prepareInputs, topK, type Ranked } from '../../tasks/classification/predict.ts';
import { classifierOptions, type ClassifierFlags } from './eval-classifier.ts';

/** The JSON `resdet classify --json` prints. */
export interface ClassifyJson {
  results: Array<{ file: string; logits: number[]; top5: Ranked[] }>;
}

/** Reads one class name per line; the count must match the classifier's outputs. */
function readClassNames(file: string, expected: number): string[] {
  const names = readFileForUser(file).toString('utf8').split(/\r?\n/).map((l) => l.trim());
  while (names.length && names[names.length - 1] === '') names.pop();
  if (names.length !== expected) throw inputError(file, '', `expected ${expected} class names (one per line), got ${names.length}`);
  return names;
}

/** Adds `resdet classify` to the program. */
export function registerClassify(program: Command): void {
  const cmd = program
    .command('classify')
    .description('print the top-5 classes of each image under a backbone with imported pretrained weights')
    .argument('<images...>', 'image files (an image already at the input size, 224 or 32 for CIFAR nets, is not resized)');
  classifierOptions(cmd)
    .option('--classes <file>', 'class names, one per line in index order (e.g. the 1000 ImageNet names)')
    .option('--json', 'print {"results": [{"file", "logits", "top5"}]}')
    .action(async (images: string[], f: ClassifierFlags & { json?: boolean; classes?: string }) => {
      await initBackend();
      const c = await loadClassifier(f.model, f);
      // BN folded into the convs (src/nn/fuse.ts), freed with the model.
      const fused = fuseForInference(c.model);
      try {
        if (f.classes) c.classes = readClassNames(f.classes, c.numClasses);
        const json: ClassifyJson = { results: [] };
        const records = images.map((file) => ({ id: file, image: { kind: 'file' as const, path: path.resolve(file) }, label: -1 }));
        // Decode the next image while the current one runs.
        let next = records.length ? prepareInputs(c, records[0]) : undefined;
        for (let i = 0; i < records.length; i++) {
          const [input] = await next!;
          next = i + 1 < records.length ? prepareInputs(c, records[i + 1]) : undefined;
          const logits = tf.tidy(() => fused.forward(tf.tensor4d(input, [1, c.inputSize, c.inputSize, 3])));
          const values = Array.from(await logits.data());
          logits.dispose();
          json.results.push({ file: images[i], logits: values, top5: topK(values, 5, c.classes) });
        }
        if (f.json) {
          process.stdout.write(`${JSON.stringify(json)}\n`);
          return;
        }
        for (const r of json.results) {
          process.stdout.write(`${r.file}\n`);
          for (const [k, t] of r.top5.entries()) {
            process.stdout.write(`  ${k + 1}. ${String(t.index).padStart(4)} ${(t.class ?? '').padEnd(12)} p=${t.prob.toFixed(4)} logit=${t.logit.toFixed(4)}\n`);
          }
        }
      } finally {
        fused.dispose();
        c.model.dispose();
      }
    });
}
