import assert from 'node:assert/strict';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Linear } from '../../../src/nn/index.ts';
import { Rng } from '../../../src/random.ts';
import { disposeCheckpoint, loadCheckpoint } from '../../../src/train/checkpoint.ts';
import { ErrorWarmup } from '../../../src/train/error-warmup.ts';
import { PlateauLr, stepLr } from '../../../src/train/schedule.ts';
import { Trainer, type BatchSource, type TrainTask } from '../../../src/train/trainer.ts';
import { useCpuBackend } from './cpu-backend.ts';
import { tmpDir } from '../../helpers/tmp.ts';

/** Feeds `errors[s]` as the training error of update s and returns lr(s + 1) after each. */
function rates(s: ErrorWarmup, errors: number[], from = 0): number[] {
  return errors.slice(from).map((e, i) => {
    s.observeTraining(from + i, { error: e });
    return s.lr(from + i + 1);
  });
}

describe('train/error-warmup', () => {
  it('ends after the first update whose window mean is below 80% (hand-computed)', () => {
    const log: string[] = [];
    const s = new ErrorWarmup(stepLr(0.1, [6]), { lr: 0.01, threshold: 0.8, window: 3, log: (m) => log.push(m) });
    assert.equal(s.lr(0), 0.01);
    // after update 0: [0.9]                 not full         -> lr(1) 0.01
    // after update 1: [0.9, 0.85]           not full         -> lr(2) 0.01
    // after update 2: [0.9, 0.85, 0.8]      mean 0.85 >= 0.8 -> lr(3) 0.01
    // after update 3: [0.85, 0.8, 0.7]      mean 0.7833 < 0.8: over, main schedule from 4 -> lr(4) 0.1
    // after update 4, 5: stays over (a worse error does not restart it); lr(6) 0.1 * 0.1 (milestone 6)
    const got = rates(s, [0.9, 0.85, 0.8, 0.7, 0.95, 0.9]);
    assert.deepEqual(got.slice(0, 5), [0.01, 0.01, 0.01, 0.1, 0.1]);
    assert.ok(Math.abs(got[5] - 0.01) < 1e-12);
    assert.equal(s.endedAtStep, 4);
    assert.equal(s.lr(3), 0.01); // update 3 itself ran at the warm-up rate
    assert.deepEqual(log, ['warm-up over after 4 iterations: mean training error over the last 3 is 0.7833 < 0.8; lr 0.01 -> 0.1']);
  });

  it('a mean equal to the threshold does not end it ("below"), and the window must be full', () => {
    // threshold 0.75 so that the means are exact in binary floating point
    const s = new ErrorWarmup(stepLr(0.1, []), { lr: 0.01, window: 2, threshold: 0.75 });
    // [0.5]: one lucky batch, window not full; [0.5, 1] mean 0.75 (not < 0.75); [1, 0.5] same
    assert.deepEqual(rates(s, [0.5, 1, 0.5]), [0.01, 0.01, 0.01]);
    assert.equal(s.endedAtStep, null);
    assert.throws(() => s.observeTraining(3, { loss: 1 }), /reported no 'error' metric \(got loss\)/);
  });

  it('logs once at warnAfter and keeps warming up', () => {
    const log: string[] = [];
    const s = new ErrorWarmup(stepLr(0.1, []), { lr: 0.01, window: 2, warnAfter: 3, log: (m) => log.push(m) });
    assert.deepEqual(rates(s, [0.9, 0.9, 0.9, 0.9, 0.9]), [0.01, 0.01, 0.01, 0.01, 0.01]);
    assert.deepEqual(log, ['warm-up still on after 3 iterations: mean training error over the last 2 is 0.9, not below 0.8; continuing at lr 0.01']);
  });

  it('state round-trips through JSON mid-window and continues identically; wraps the main schedule', () => {
    const errors = [0.95, 0.9, 0.85, 0.7, 0.6, 0.5];
    const straight = new ErrorWarmup(new PlateauLr(0.1), { lr: 0.01, window: 3 });
    const want = rates(straight, errors);
    // lr(1..6): window full after update 2 (mean 0.9), update 3: (0.9+0.85+0.7)/3 = 0.8167,
    // update 4: (0.85+0.7+0.6)/3 = 0.7167 < 0.8: over from 5
    assert.deepEqual(want, [0.01, 0.01, 0.01, 0.01, 0.1, 0.1]);
    const a = new ErrorWarmup(new PlateauLr(0.1), { lr: 0.01, window: 3 });
    rates(a, errors.slice(0, 3));
    const saved = JSON.parse(JSON.stringify(a.state()));
    assert.deepEqual(saved, { lr: 0.1, best: null, bad: 0, warmup_ended_at: null, warmup_recent_errors: [0.95, 0.9, 0.85] });
    const b = new ErrorWarmup(new PlateauLr(0.1), { lr: 0.01, window: 3 });
    b.load(saved);
    assert.deepEqual(rates(b, errors, 3), want.slice(3));
    assert.throws(() => b.load({ warmup_ended_at: 1.5, warmup_recent_errors: [] }), /warm-up schedule state: expected warmup_ended_at/);
  });

  describe('in the Trainer, with checkpoints', () => {
    useCpuBackend();
    const dir = tmpDir('resdet-warmup-');

    // The task reports a scripted training error per update: 0.9 for updates 0-3, then 0.5.
    const scripted = (s: number): number => (s < 4 ? 0.9 : 0.5);
    const data: BatchSource<number> = { batch: async (s) => s };
    function run(iterations: number, resumeFrom?: string): { lrs: number[]; model: Linear; trainer: Trainer<number> } {
      const model = new Linear(2, 1, new Rng(3));
      const task: TrainTask<number> = {
        step: (s) => ({ loss: tf.sum(model.forward(tf.ones([1, 2]))), metrics: { error: tf.scalar(scripted(s)) }, examples: 1 }),
      };
      const lrs: number[] = [];
      const trainer = new Trainer({
        model, task, data, iterations,
        schedule: new ErrorWarmup(stepLr(0.1, []), { lr: 0.01, window: 2 }),
        checkpoint: { path: path.join(dir, 'c.safetensors'), every: 1, config: null },
        onStep: (i) => lrs.push(i.lr),
      });
      if (resumeFrom) {
        const ckpt = loadCheckpoint(resumeFrom);
        trainer.restore(ckpt);
        disposeCheckpoint(ckpt);
      }
      return { lrs, model, trainer };
    }

    it('switches at the same update whether the run is resumed mid-window or not', async () => {
      const before = tf.memory().numTensors;
      // window 2: after update 4 the mean is (0.9 + 0.5) / 2 = 0.7 < 0.8: updates 5+ at 0.1
      const a = run(7);
      await a.trainer.run();
      assert.deepEqual(a.lrs, [0.01, 0.01, 0.01, 0.01, 0.01, 0.1, 0.1]);
      const wantW = a.model.weight.dataSync().slice();
      a.trainer.dispose();
      a.model.dispose();
      // stop after update 3 (the window holds [0.9, 0.9]), resume from the checkpoint
      const b1 = run(4);
      await b1.trainer.run();
      b1.trainer.dispose();
      b1.model.dispose();
      const b2 = run(7, path.join(dir, 'c.safetensors'));
      await b2.trainer.run();
      assert.deepEqual(b2.lrs, [0.01, 0.1, 0.1]);
      assert.deepEqual(b2.model.weight.dataSync(), wantW);
      b2.trainer.dispose();
      b2.model.dispose();
      assert.equal(tf.memory().numTensors, before);
    });
  });
});
