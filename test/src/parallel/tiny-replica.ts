/**
 * A tiny conv net for the data-parallel tests, built by the workers through `createReplica`:
 * conv 3x3 (3 -> 4) [-> BN] -> ReLU -> global average pool -> linear (4 -> 3).
 * Its task fails on purpose for marker labels, to test how worker errors surface, and with
 * `noise` adds input noise from its own Rng (as a detector's RoI sampling draws from one).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Layer, Linear, ReLU } from '../../../src/nn/index.ts';
import { Rng } from '../../../src/random.ts';
import { classificationTask, type ClassificationBatch } from '../../../src/train/classification.ts';
import type { TrainTask } from '../../../src/train/trainer.ts';

/** a label that makes the task throw */
export const THROW_LABEL = 99;
/** a label that makes the worker thread exit (a crash, not an exception) */
export const EXIT_LABEL = 98;

export interface TinyArgs {
  bn: boolean;
  seed: number;
  /** the task adds 0.1 * N(0, 1) noise to the inputs, drawn from the replica's Rng 'noise' */
  noise?: boolean;
}

export class TinyNet extends Layer {
  readonly conv: Conv2d;
  readonly bn?: BatchNorm2d;
  readonly fc: Linear;
  constructor(args: TinyArgs) {
    super();
    const rng = new Rng(args.seed);
    this.conv = this.child('conv', new Conv2d(3, 4, 3, { padding: 1, bias: !args.bn }, rng));
    if (args.bn) this.bn = this.child('bn', new BatchNorm2d(4));
    this.fc = this.child('fc', new Linear(4, 3, rng));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = this.conv.forward(x);
      return this.fc.forward(new GlobalAvgPool().forward(new ReLU().forward(this.bn ? this.bn.forward(h) : h)));
    });
  }
}

/** The classification task, failing on the marker labels; with `rng`, noisy inputs. */
export function tinyTask(model: TinyNet, rng?: Rng): TrainTask<ClassificationBatch> {
  const base = classificationTask(model);
  return {
    step(batch, step) {
      if (batch.labels.includes(THROW_LABEL)) throw new Error(`bad label ${THROW_LABEL} in the shard`);
      if (batch.labels.includes(EXIT_LABEL)) process.exit(3);
      return base.step(rng ? { ...batch, images: batch.images.map((v) => v + 0.1 * rng.normal()) } : batch, step);
    },
  };
}

export function createReplica(args: TinyArgs): { model: TinyNet; task: TrainTask<ClassificationBatch>; rngs?: Record<string, Rng> } {
  const model = new TinyNet(args);
  // the state is set by the main thread before every step
  const rng = args.noise ? new Rng(0) : undefined;
  return { model, task: tinyTask(model, rng), ...(rng ? { rngs: { noise: rng } } : {}) };
}
