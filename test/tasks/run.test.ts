/**
 * tasks/run.ts, the training-run skeleton both tasks share: a new run, a resumed one, the
 * refusals (named by option field), the callbacks, the files and the clean-up, on a tiny linear
 * classifier with synthetic batches (the tasks' own tests run it with real models and data).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Layer, Linear } from '../../src/nn/index.ts';
import { Rng } from '../../src/random.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.ts';
import { classificationTask, type ClassificationBatch } from '../../src/train/classification.ts';
import { stepLr } from '../../src/train/schedule.ts';
import type { LogRow, StepInfo } from '../../src/train/trainer.ts';
import { initBackend } from '../../src/backend/index.ts';
import { runTraining, type RunOptions, type TrainingRun } from '../../tasks/run.ts';

class Tiny extends Layer {
  fc: Linear;
  constructor(seed: number) {
    super();
    this.fc = this.child('fc', new Linear(4, 3, new Rng(seed)));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc.forward(x);
  }
}

interface Config { iterations: number; seed: number }

/** A run of `iterations` updates; counts what the skeleton asked of it. */
function tinyRun(o: RunOptions, counts = { prepared: 0, disposed: 0, plotted: 0 }): TrainingRun<Config, ClassificationBatch> {
  const files = { checkpoint: path.join(o.out, 'ckpt.safetensors'), log: path.join(o.out, 'log.jsonl'), plot: path.join(o.out, 'plot.txt') };
  return {
    options: o,
    files,
    iterations: (c) => c.iterations,
    fresh: () => ({ iterations: o.iterations ?? 4, seed: o.seed ?? 0 }),
    resumed: (saved) => ({ ...(saved as Config), iterations: o.iterations ?? (saved as Config).iterations }),
    prepare: async (c) => {
      counts.prepared += 1;
      const model = new Tiny(c.seed);
      return {
        model,
        task: classificationTask(model),
        data: {
          async batch(step: number): Promise<ClassificationBatch> {
            const rng = new Rng(step + 1);
            const labels = Int32Array.from({ length: 4 }, () => rng.int(0, 3));
            return { images: Float32Array.from({ length: 16 }, () => rng.normal()), labels, shape: [4, 4] };
          },
        },
        schedule: stepLr(0.1, []),
        sgd: { momentum: 0.9, weightDecay: 1e-4 },
        logEvery: 2,
        checkpointEvery: 2,
        workers: 1,
        plot: async (rows, file) => {
          counts.plotted += 1;
          fs.writeFileSync(file, `${rows.length} rows\n`);
        },
        dispose: () => {
          counts.disposed += 1;
          model.dispose();
        },
      };
    },
  };
}

describe('tasks/run: the training-run skeleton', () => {
  let tmp = '';
  before(async () => {
    await initBackend();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-run-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a new run then a resumed one: callbacks, files, checkpoint steps, parts freed, no tensor left', async () => {
    const out = path.join(tmp, 'a');
    const before = tf.memory().numTensors;
    const steps: StepInfo[] = [];
    const rows: LogRow[] = [];
    const counts = { prepared: 0, disposed: 0, plotted: 0 };
    const first = await runTraining(tinyRun({ out, iterations: 4, quiet: true, onStep: (s) => steps.push(s), onLog: (r) => rows.push(r) }, counts));
    assert.deepEqual([first.step, first.startStep], [4, 0]);
    assert.equal(steps.length, 4);
    assert.deepEqual(rows.map((r) => r.step), [2, 4]); // logEvery 2
    assert.equal(fs.readFileSync(first.plotFile, 'utf8'), '2 rows\n');
    assert.ok(!fs.existsSync(path.join(out, '.lock')));
    const info: string[] = [];
    const second = await runTraining(tinyRun({ out, iterations: 6, resume: true, quiet: true, onInfo: (l) => info.push(l) }, counts));
    assert.deepEqual([second.step, second.startStep, second.config.iterations], [6, 4, 6]);
    assert.deepEqual(info, [`resumed from ${first.checkpoint} at step 4`]);
    const c = loadCheckpoint(second.checkpoint);
    try {
      assert.equal(c.step, 6);
    } finally {
      disposeCheckpoint(c);
    }
    // nothing left to do: said, and the checkpoint is still there
    const third = await runTraining(tinyRun({ out, resume: true, quiet: true, onInfo: (l) => info.push(l) }, counts));
    assert.equal(third.step, 6);
    assert.equal(info.at(-1), 'already at step 6 of 6: nothing to do');
    assert.deepEqual(counts, { prepared: 3, disposed: 3, plotted: 3 });
    assert.equal(tf.memory().numTensors, before);
  });

  it('refusals name option fields: resume without a checkpoint, a new run over one', async () => {
    const none = path.join(tmp, 'none');
    const ckpt = path.join(none, 'ckpt.safetensors');
    await assert.rejects(runTraining(tinyRun({ out: none, resume: true, quiet: true })), { name: 'UserError', message: `${ckpt}: resume: expected a checkpoint from an earlier run, got none` });
    assert.ok(!fs.existsSync(none), 'the folder made for the lock is removed again');
    const out = path.join(tmp, 'b');
    await runTraining(tinyRun({ out, iterations: 1, quiet: true }));
    await assert.rejects(runTraining(tinyRun({ out, iterations: 1, quiet: true })),
      { name: 'UserError', message: `${path.join(out, 'ckpt.safetensors')}: a checkpoint is already there; pass resume to continue it or choose another out` });
  });
});
