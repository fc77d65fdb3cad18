import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { TrainingProgress } from '../../../src/train/progress.ts';

/** A fake stream capturing what is written; `tty` decides whether the bar is drawn. */
function fakeStream(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const ok = (...args: unknown[]): boolean => {
    const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  };
  Object.assign(w, { isTTY: tty, columns: 200, cursorTo: ok, clearLine: ok, moveCursor: ok });
  // eslint-disable-next-line no-control-regex
  return { stream: w as unknown as NodeJS.WriteStream, text: () => out.replace(/\x1b(\[[0-9;?]*[a-zA-Z]|[78])/g, '') };
}

describe('train/progress', () => {
  it('draws loss, error, lr, images/s and ETA on a terminal', () => {
    const { stream, text } = fakeStream(true);
    const p = new TrainingProgress({ total: 100, start: 10, stream, label: 'ResNet-20' });
    // 1 step done in 1 s, 89 to go: ETA 1:29
    p.step({ step: 11, lr: 0.1, loss: 2.3456, metrics: { error: 0.875 }, imagesPerSecond: 123.4, elapsedMs: 1000 });
    p.stop();
    assert.match(text(), /ResNet-20 .* 11\/100 \| loss 2\.3456 \| err 87\.5% \| lr 0\.100 \| 123\.4 img\/s \| ETA 1:29/);
  });

  it('prints plain lines per logged row without a terminal, and nothing when quiet', () => {
    const plain = fakeStream(false);
    const p = new TrainingProgress({ total: 50, start: 0, stream: plain.stream, timeLimitMs: 1000 });
    p.step({ step: 1, lr: 0.1, loss: 2, metrics: {}, imagesPerSecond: 1, elapsedMs: 1 });
    p.log({ kind: 'eval', step: 20, test_error: 0.123456, time: 'x' });
    p.stop();
    assert.equal(plain.text(), 'eval step 20/50: test_error 0.1235\n');
    const quiet = fakeStream(false);
    const q = new TrainingProgress({ total: 50, start: 0, stream: quiet.stream, quiet: true });
    q.log({ kind: 'train', step: 20, loss: 1 });
    assert.equal(quiet.text(), '');
  });
});
