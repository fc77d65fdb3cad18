/**
 * Classification data: finds the layout of a data folder and builds the mappers of the paper's
 * two recipes ('cifar': small fixed-size images decoded once into memory, pad-crop-flip;
 * 'imagenet': files decoded per use, scale-crop-flip-colour).
 *
 * Layouts recognised by `openClassificationData(dir)`:
 * - CIFAR-10 binary: `dir/data_batch_{1..5}.bin` and `dir/test_batch.bin`
 * - MNIST idx: `dir/{train,t10k}-images-idx3-ubyte[.gz]` with the matching `-labels-idx1-ubyte`
 * - image folders: `dir/train/<class>/*` and `dir/test/<class>/*` (or `val/`)
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import type { Rng } from '../../src/random.ts';
import { cifarEval, cifarTrain, centreCrop, imagenetTrain, type Normalisation } from './augment.ts';
import { cifarBinaryFiles, readCifarBinary } from './cifar-binary.ts';
import { PixelCache, toRgb } from './decode.ts';
import { readImageFolder } from './image-folder.ts';
import { readMnist } from './mnist.ts';
import type { ClassificationSet } from './records.ts';

export * from './records.ts';
export { readImageFolder } from './image-folder.ts';
export { readCifarBinary, cifarBinaryFiles } from './cifar-binary.ts';
export { readMnist } from './mnist.ts';

/** The sets found in a classification data folder, and the layout they were read from. */
export interface ClassificationData {
  layout: 'cifar-binary' | 'mnist' | 'image-folder';
  train?: ClassificationSet;
  test?: ClassificationSet;
}

function mnistFile(dir: string, prefix: string, kind: string): string | undefined {
  return [`${prefix}-${kind}`, `${prefix}-${kind}.gz`].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
}

/**
 * Reads the training and test sets of a data folder (see the module comment for layouts).
 * @throws UserError when no layout is recognised
 */
export function openClassificationData(dir: string): ClassificationData {
  if (!fs.existsSync(dir)) throw new UserError(`${dir}: expected a data folder, got nothing at that path`);
  if (fs.existsSync(path.join(dir, 'data_batch_1.bin')) || fs.existsSync(path.join(dir, 'test_batch.bin'))) {
    const have = (files: string[]): boolean => files.every((f) => fs.existsSync(f));
    const train = cifarBinaryFiles(dir, 'train');
    const test = cifarBinaryFiles(dir, 'test');
    return { layout: 'cifar-binary', train: have(train) ? readCifarBinary(train) : undefined, test: have(test) ? readCifarBinary(test) : undefined };
  }
  const mnist = (p: string): ClassificationSet | undefined => {
    const [img, lab] = [mnistFile(dir, p, 'images-idx3-ubyte'), mnistFile(dir, p, 'labels-idx1-ubyte')];
    return img && lab ? readMnist(img, lab) : undefined;
  };
  const [mTrain, mTest] = [mnist('train'), mnist('t10k')];
  if (mTrain || mTest) return { layout: 'mnist', train: mTrain, test: mTest };
  const sub = ['train', 'test', 'val'].filter((s) => fs.existsSync(path.join(dir, s)));
  if (sub.length) {
    const train = sub.includes('train') ? readImageFolder(path.join(dir, 'train')) : undefined;
    const testDir = sub.includes('test') ? 'test' : sub.includes('val') ? 'val' : undefined;
    const test = testDir ? readImageFolder(path.join(dir, testDir), train?.classes) : undefined;
    return { layout: 'image-folder', train, test };
  }
  throw new UserError(`${dir}: expected CIFAR-10 binary batches (data_batch_1.bin), MNIST idx files, or image folders train/ and test/ (or val/), got none of them`);
}

/** A set's mappers: training (augmented) and evaluation samples, all of `sampleShape`. */
export interface SetMappers {
  sampleShape: [number, number, 3];
  train(index: number, rng: Rng): Promise<Float32Array>;
  eval(index: number): Promise<Float32Array>;
  /** the decoded-pixel cache ('cifar' recipe) */
  cache?: PixelCache;
}

/**
 * Builds the mappers of a recipe for `set`.
 * 'cifar': images keep their own size (the first image's; all must match) and are decoded once
 * into a `PixelCache`; training = pad 4, random crop, flip. 'imagenet': 224 crops as in Sec. 3.4.
 */
export function setMappers(set: ClassificationSet, recipe: 'cifar' | 'imagenet', norm: Normalisation, cache?: PixelCache): SetMappers {
  if (recipe === 'imagenet') {
    return {
      sampleShape: [224, 224, 3],
      train: (i, rng) => imagenetTrain(set.records[i], rng, norm),
      eval: (i) => centreCrop(set.records[i], norm),
    };
  }
  const first = set.records[0]?.image;
  if (!first) throw new UserError(`${set.source}: expected images, got an empty set`);
  let pixels: (i: number) => Promise<{ data: Uint8Array; width: number; height: number; channels: number }>;
  let shape: [number, number, 3];
  if (first.kind === 'pixels') {
    shape = [first.height, first.width, 3];
    pixels = async (i) => {
      const im = set.records[i].image;
      if (im.kind !== 'pixels') throw new Error('mixed record kinds');
      return toRgb({ data: im.pixels, width: im.width, height: im.height, channels: im.channels });
    };
  } else {
    const c = cache ?? new PixelCache(set, 32, 32, 3);
    cache = c;
    shape = [c.height, c.width, 3];
    pixels = async (i) => ({ data: await c.get(i), width: c.width, height: c.height, channels: 3 });
  }
  return {
    sampleShape: shape,
    train: async (i, rng) => cifarTrain(await pixels(i), rng, norm),
    eval: async (i) => cifarEval(await pixels(i), norm),
    cache,
  };
}
