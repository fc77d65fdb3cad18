import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { Conv2d, Dropout, FlattenNCHW, Linear } from '../../src/nn/layers.ts';
import { vgg, VGG_CFGS, type Vgg } from '../../backbones/vgg.ts';

describe('backbones/vgg', () => {
  // One build (138M parameters) shared by the tests below.
  let net: Vgg;
  before(async () => {
    await initBackend();
    net = vgg(16, { seed: 3 });
  });
  after(() => net.dispose());

  it('VGG-16 (configuration D) has torchvision names and 138,357,544 parameters', () => {
    assert.equal(VGG_CFGS[16].filter((v) => v !== 'M').length, 13);
    const keys = [...net.stateDict().keys()];
    const convAt = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
    assert.deepEqual(keys, [...convAt.flatMap((i) => [`features.${i}.weight`, `features.${i}.bias`]), ...[0, 3, 6].flatMap((i) => [`classifier.${i}.weight`, `classifier.${i}.bias`])]);
    // convs: 3*64*9+64 + 64*64*9+64 + 64*128*9+128 + 128*128*9+128 + 128*256*9+256 + 2*(256*256*9+256)
    //   + 256*512*9+512 + 5*(512*512*9+512) = 14,714,688; fc6 25088*4096+4096 = 102,764,544;
    //   fc7 4096*4096+4096 = 16,781,312; fc8 4096*1000+1000 = 4,097,000. Sum 138,357,544.
    assert.equal(net.numParameters(), 138357544);
    assert.deepEqual(net.stateDict().get('classifier.0.weight')?.shape, [25088, 4096]);
    assert.ok(net.getModule('classifier.2') instanceof Dropout);
  });

  it("feature maps conv1..conv5 (each block's last conv + ReLU, before its pool) at strides 1..16", () => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const maps = net.features(x, net.stageNames);
    assert.deepEqual(
      net.stageNames.map((n) => maps[n].shape),
      [
        [1, 64, 64, 64],
        [1, 32, 32, 128],
        [1, 16, 16, 256],
        [1, 8, 8, 512],
        [1, 4, 4, 512],
      ],
    );
    assert.deepEqual(net.outputShape.conv5, { channels: 512, stride: 16 });
    // conv5 is conv5_3 + ReLU: no negative values, and no pool5 (4x4 at stride 16)
    assert.ok(tf.tidy(() => tf.min(maps.conv5).dataSync()[0]) >= 0);
    tf.dispose([x, ...Object.values(maps)]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('detection: conv5_3 trunk, head = flatten (NCHW) + the classifier fc6/fc7 (shared), 4096 channels', () => {
    const det = net.detection;
    assert.deepEqual([det.trunk, det.pooledSize, det.headChannels], ['conv5', 7, 4096]);
    assert.equal(det.head.getModule('fc6'), net.getModule('classifier.0'));
    assert.equal(det.head.getModule('fc7'), net.getModule('classifier.3'));
    assert.ok(det.head.getModule('flatten') instanceof FlattenNCHW);
    // py-faster-rcnn freezes conv1_1 ... conv2_2
    const frozen = det.frozenPrefixes.map((p) => net.getModule(p) as Conv2d);
    assert.deepEqual(
      frozen.map((c) => [c.inChannels, c.outChannels]),
      [
        [3, 64],
        [64, 64],
        [64, 128],
        [128, 128],
      ],
    );
    net.eval();
    const before = tf.memory().numTensors;
    const rois = tf.randomNormal([2, 7, 7, 512], 0, 1, 'float32', 2);
    const y = det.head.forward(rois);
    assert.deepEqual(y.shape, [2, 4096]);
    // eval mode: relu(fc7(relu(fc6(flattenNCHW(rois)))))
    const fc6 = net.getModule('classifier.0') as Linear;
    const fc7 = net.getModule('classifier.3') as Linear;
    const ref = tf.tidy(() => tf.relu(fc7.forward(tf.relu(fc6.forward(tf.reshape(tf.transpose(rois, [0, 3, 1, 2]), [2, -1]))))));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(y, ref))));
    assert.ok(diff.dataSync()[0] < 1e-4);
    tf.dispose([rois, y, ref, diff]);
    assert.equal(tf.memory().numTensors, before);
  });
});
