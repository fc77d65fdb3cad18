/**
 * Classification under data parallelism: how a batch splits into shards (main thread) and how a
 * worker builds its replica (`createReplica`, loaded by worker.ts from `CLASSIFICATION_REPLICA`).
 */
import { createBackbone, type BackboneOptions } from '../../backbones/index.ts';
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '../../src/nn/index.ts';
import { classificationTask, type ClassificationBatch } from '../../src/train/classification.ts';
import { fuseForInference } from '../../src/nn/fuse.ts';
import { DataParallel } from '../../src/parallel/data-parallel.ts';
import type { ReplicaSpec } from '../../src/parallel/protocol.ts';
import { shardSizes } from '../../src/parallel/shards.ts';
import type { Replica } from '../../src/parallel/worker.ts';

/** Arguments of a classification replica: the backbone and its options. */
export interface ClassificationReplicaArgs {
  model: string;
  options: Partial<BackboneOptions>;
}

/**
 * Splits a batch into at most `parts` contiguous shards (`shardSizes`). Each shard owns fresh
 * arrays, so it can be transferred to a worker.
 * @param batch images [N, ...], labels [N]
 */
export function splitClassificationBatch(batch: ClassificationBatch, parts: number): ClassificationBatch[] {
  const sample = batch.images.length / batch.labels.length;
  let start = 0;
  return shardSizes(batch.labels.length, parts).map((size) => {
    start += size;
    return {
      images: batch.images.slice((start - size) * sample, start * sample),
      labels: batch.labels.slice(start - size, start),
      shape: [size, ...batch.shape.slice(1)],
    };
  });
}

/**
 * A worker's replica: the backbone (its weights are replaced by the main thread's), the task,
 * and inference with folded BN (refolded whenever the weights are reloaded; freed with the
 * worker).
 */
export function createReplica(args: ClassificationReplicaArgs): Replica<ClassificationBatch> {
  const model = createBackbone(args.model, args.options);
  const fused = fuseForInference(model);
  return { model, task: classificationTask(model), infer: (x) => fused.forward(x) };
}

/** The replica spec of `createReplica` for a backbone built with `options`. */
export function classificationReplica(model: string, options: Partial<BackboneOptions>): ReplicaSpec {
  return { module: import.meta.url, args: { model, options } satisfies ClassificationReplicaArgs };
}

/**
 * Starts data-parallel classification training of `model` (a backbone built as
 * `createBackbone(name, options)`) over `replicas` threads, this one included.
 */
export function startClassificationParallel(model: Layer, name: string, options: Partial<BackboneOptions>, replicas: number, infer?: (x: tf.Tensor) => tf.Tensor): Promise<DataParallel<ClassificationBatch>> {
  return DataParallel.start({
    model,
    task: classificationTask(model),
    replica: classificationReplica(name, options),
    split: splitClassificationBatch,
    replicas,
    ...(infer ? { infer } : {}),
  });
}
