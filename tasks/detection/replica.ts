/**
 * Faster R-CNN training under data parallelism (src/parallel/): how a worker builds its replica
 * (train.ts names this file as the workers' replica module). The replica's anchor and RoI
 * samplers draw from its own generator, reset each step from the main thread's
 * (`rngs: {detector}`).
 */
import type { DetectionBatch } from '../../datasets/detection/index.ts';
import type { Replica } from '../../src/parallel/worker.ts';
import { buildDetector, type DetectorSpec } from './model.ts';
import { detectionTask } from './train.ts';

/** A worker's replica: the detector of `spec` without initial weights (the main thread's are loaded). */
export function createReplica(args: { spec: DetectorSpec }): Replica<DetectionBatch> {
  const model = buildDetector(args.spec, 'none');
  return { model, task: detectionTask(model), rngs: { detector: model.rng } };
}
