/**
 * Plain records of a classification data set (STYLE.md habit 8): readers produce them, a
 * separate mapper (decode.ts, augment.ts) turns them into network inputs.
 */
import { Rng } from '../../src/random.ts';

/** Where an image's pixels come from. */
export type ImageSource =
  /** an encoded file (JPEG, PNG, WebP, ...) decoded with sharp */
  | { kind: 'file'; path: string }
  /** raw pixels already in memory (CIFAR binary, MNIST idx), row-major HWC */
  | { kind: 'pixels'; pixels: Uint8Array; width: number; height: number; channels: number };

/** One labelled image (pixels in memory or a file), before decoding. */
export interface ClassificationRecord {
  /** a stable identifier for messages, e.g. `cat/0001.jpg` or `data_batch_1.bin[17]` */
  id: string;
  image: ImageSource;
  /** class index into `ClassificationSet.classes` */
  label: number;
}

/** A classification set: its class names and records (label = index into `classes`). */
export interface ClassificationSet {
  /** where it was read from */
  source: string;
  /** class names; index = label */
  classes: string[];
  records: ClassificationRecord[];
}

/** The CIFAR-10 class names in label order (the binary batches' `batches.meta.txt`). */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/**
 * Splits off the last `holdout` records of a fixed shuffle as a validation set (the paper's
 * 45k/5k split of CIFAR-10's training set, Sec. 4.2). The split depends only on `seed`.
 */
export function holdOut(set: ClassificationSet, holdout: number, seed: number): { train: ClassificationSet; val: ClassificationSet } {
  if (!Number.isInteger(holdout) || holdout < 0 || holdout >= set.records.length) {
    throw new Error(`hold-out of ${holdout} images from ${set.records.length}: expected an integer in [0, ${set.records.length})`);
  }
  const order = new Rng(seed).shuffle(set.records.map((_, i) => i));
  const cut = set.records.length - holdout;
  const pick = (idx: number[]): ClassificationRecord[] => idx.sort((a, b) => a - b).map((i) => set.records[i]);
  return {
    train: { ...set, records: pick(order.slice(0, cut)) },
    val: { ...set, source: `${set.source} (held out)`, records: pick(order.slice(cut)) },
  };
}
