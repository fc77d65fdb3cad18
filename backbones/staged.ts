/**
 * The common frame of resdet's backbones: a network is a list of named stages (the paper's
 * conv1 ... conv5) followed by a classifier head. `forward` runs all of it (logits); `features`
 * runs only up to the last stage asked for, which is how the detector cuts a ResNet at conv4.
 * Each stage's channels and stride are derived from its layers' shapes, never typed by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Layer } from '../src/nn/module.ts';
import type { ConvRunner } from '../src/nn/fuse.ts';
import type { Backbone, FeatureSpec } from './types.ts';
import { countChain, type MacCount, type MacCounted, type MapShape } from './flops.ts';

/** A named stage: layers run in order, already registered as children under their state names. */
export interface Stage {
  name: string;
  layers: Layer[];
}

/** Side of the square input used to derive strides (any multiple of every stride works). */
const PROBE = 1024;

export abstract class StagedBackbone extends Layer implements Backbone, MacCounted {
  private stages: Stage[] = [];
  private head: Layer[] = [];
  private names: string[] = [];
  private shapes: Record<string, FeatureSpec> = {};

  constructor(readonly name: string) {
    super();
  }

  get stageNames(): readonly string[] {
    return this.names;
  }

  get outputShape(): Readonly<Record<string, FeatureSpec>> {
    return this.shapes;
  }

  /** Declares the stages and the classifier head (call once, at the end of the constructor). */
  protected setStages(stages: Stage[], head: Layer[], inputChannels = 3): void {
    this.stages = stages;
    this.head = head;
    this.names = stages.map((s) => s.name);
    let shape: MapShape = { h: PROBE, w: PROBE, c: inputChannels };
    for (const stage of stages) {
      shape = countChain(stage.layers, shape).shape;
      this.shapes[stage.name] = { channels: shape.c, stride: PROBE / shape.h };
    }
  }

  /**
   * @param x [N, H, W, 3]
   * @param names stage names, any order; stages after the last of them are not run
   * @param runner runs the convolutions (src/nn/fuse.ts: folded BN at inference); default
   *   each layer's own forward
   * @returns each requested map, [N, H/stride, W/stride, channels] (the caller disposes them)
   */
  features(x: tf.Tensor4D, names: readonly string[], runner?: ConvRunner): Record<string, tf.Tensor4D> {
    const wanted = names.map((n) => {
      const i = this.names.indexOf(n);
      if (i < 0) throw new Error(`${this.name} has no stage '${n}' (stages: ${this.names.join(', ')})`);
      return i;
    });
    if (wanted.length === 0) return {};
    const last = Math.max(...wanted);
    return tf.tidy(() => {
      const out: Record<string, tf.Tensor4D> = {};
      let h: tf.Tensor = x;
      for (let i = 0; i <= last; i++) {
        const layers = this.stages[i].layers;
        h = runner ? runner.chain(layers, h) : layers.reduce((t, l) => l.forward(t), h);
        if (wanted.includes(i)) out[this.names[i]] = h as tf.Tensor4D;
      }
      return out;
    });
  }

  /** @param x [N, H, W, 3] -> logits [N, numClasses] */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const layers = [...this.stages.flatMap((s) => s.layers), ...this.head];
      return layers.reduce((t, l) => l.forward(t), x);
    });
  }

  /** `forward` with the convolutions run by `runner` (folded BN at inference, src/nn/fuse.ts). */
  override forwardWith(x: tf.Tensor, runner: ConvRunner): tf.Tensor {
    return tf.tidy(() => runner.chain([...this.stages.flatMap((s) => s.layers), ...this.head], x));
  }

  /** Multiply-adds of one image of the given shape through the whole classifier (see flops.ts). */
  countMacs(input: MapShape): MacCount {
    return countChain([...this.stages.flatMap((s) => s.layers), ...this.head], input);
  }
}
