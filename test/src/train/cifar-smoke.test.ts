import assert from 'node:assert/strict';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SHARED_DATA } from '../../helpers/cli.ts';
import { requireShared } from '../../helpers/shared.ts';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Layer, Linear, ReLU } from '../../../src/nn/index.ts';
import { Rng } from '../../../src/random.ts';
import { classificationTask } from '../../../src/train/classification.ts';
import { stepLr } from '../../../src/train/schedule.ts';
import { Trainer } from '../../../src/train/trainer.ts';
import { holdOut, readImageFolder, setMappers } from '../../../datasets/classification/index.ts';
import { TORCHVISION_NORM } from '../../../datasets/classification/augment.ts';
import { ShuffledBatches } from '../../../datasets/classification/batches.ts';
import { initBackend } from '../../../src/backend/index.ts';

/** A tiny CIFAR net: two stride-2 conv-BN-ReLU layers, global pooling, linear. */
class TinyNet extends Layer {
  private readonly layers: Layer[];
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.layers = [
      this.child('conv1', new Conv2d(3, 16, 3, { stride: 2, padding: 1 }, rng)),
      this.child('bn1', new BatchNorm2d(16)),
      new ReLU(),
      this.child('conv2', new Conv2d(16, 32, 3, { stride: 2, padding: 1 }, rng)),
      this.child('bn2', new BatchNorm2d(32)),
      new ReLU(),
      new GlobalAvgPool(),
      this.child('fc', new Linear(32, 10, rng)),
    ];
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, l) => l.forward(h), x));
  }
}

describe('train: a short real CIFAR-10 run', () => {
  // the default backend (wasm with resdet's training kernels): this is the path users train on
  before(() => initBackend());

  it('256 real CIFAR-10 JPEGs, augmentation, prefetching, 30 SGD steps: the loss goes down', async function () {
    const root = path.join(SHARED_DATA, 'cifar10', 'test');
    requireShared(this, root);
    const all = readImageFolder(root);
    const set = holdOut(all, all.records.length - 256, 3).train;
    const mappers = setMappers(set, 'cifar', TORCHVISION_NORM);
    const model = new TinyNet(1);
    const losses: number[] = [];
    const before = tf.memory().numTensors;
    const trainer = new Trainer({
      model,
      task: classificationTask(model),
      data: new ShuffledBatches(set, mappers.train, { batchSize: 32, seed: 0, sampleShape: mappers.sampleShape }),
      schedule: stepLr(0.1, []),
      iterations: 30,
      onStep: (s) => losses.push(s.loss),
    });
    await trainer.run();
    trainer.dispose();
    const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    // chance is ln(10) = 2.30; the first steps sit near it, the last ones clearly below
    assert.ok(mean(losses.slice(0, 5)) > 2.1, `first losses ${losses.slice(0, 5)}`);
    assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)) - 0.1, `losses ${losses.map((l) => l.toFixed(3))}`);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});
