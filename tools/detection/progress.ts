/**
 * A one-line training progress display on stderr: step / total, loss, learning rate, images/s
 * and ETA. On a terminal the line is redrawn in place; otherwise (logs, tests) a line is printed
 * every `every` steps and at the last one.
 */
import type { StepInfo } from '../../src/train/trainer.ts';

/** Formats seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Returns an `onStep` handler that draws the progress line. */
export function progressLine(stream: NodeJS.WriteStream = process.stderr, every = 10): { onStep(info: StepInfo, total: number): void; done(): void } {
  const tty = stream.isTTY === true;
  let first: { step: number; ms: number } | undefined;
  let drawn = false;
  return {
    onStep(info, total) {
      first ??= { step: info.step - 1, ms: info.elapsedMs };
      const rate = (info.step - first.step) / Math.max(1e-3, (info.elapsedMs - first.ms) / 1000);
      const eta = info.step > first.step + 1 ? (total - info.step) / rate : NaN;
      const width = 24;
      const filled = Math.round((width * info.step) / total);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
      const line = `${bar} ${info.step}/${total} loss ${info.loss.toFixed(3)} lr ${info.lr.toPrecision(2)} ${info.imagesPerSecond.toFixed(2)} img/s ETA ${formatDuration(eta)}`;
      if (tty) {
        stream.write(`\r${line}\x1b[K`);
        drawn = true;
      } else if (info.step % every === 0 || info.step === total) {
        stream.write(`${line}\n`);
      }
    },
    done() {
      if (tty && drawn) stream.write('\n');
    },
  };
}
