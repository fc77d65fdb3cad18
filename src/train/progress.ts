/**
 * The training progress bar (cli-progress) with loss, error, learning rate, images/s and ETA.
 * Off when stderr is not a terminal or with --quiet; without a terminal (a log file, CI) a
 * plain line is printed per logged window instead, unless quiet.
 */
import cliProgress from 'cli-progress';
import type { LogRow, StepInfo } from './trainer.ts';

export interface ProgressOptions {
  /** the step the run stops at */
  total: number;
  /** the step it starts from (a resumed run) */
  start: number;
  /** time budget in ms, when the run is time-limited (the ETA is then the smaller of the two) */
  timeLimitMs?: number;
  quiet?: boolean;
  /** default process.stderr */
  stream?: NodeJS.WriteStream;
  label?: string;
}

/** Formats seconds as h:mm:ss or m:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Progress reporting for `Trainer`'s onStep/onLog hooks. */
export class TrainingProgress {
  private readonly bar?: cliProgress.SingleBar;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !opts.quiet;
    if (this.tty) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: `${opts.label ? `${opts.label} ` : ''}{bar} {value}/{total} | loss {loss} | err {err} | lr {lr} | {ips} img/s | ETA {eta_s}`,
          hideCursor: true,
          barsize: 24,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(opts.total, opts.start, { loss: '-', err: '-', lr: '-', ips: '-', eta_s: '?' });
    }
  }

  private eta(info: StepInfo): number {
    const done = info.step - this.opts.start;
    const bySteps = done > 0 ? ((this.opts.total - info.step) * info.elapsedMs) / done / 1000 : Infinity;
    const byTime = this.opts.timeLimitMs !== undefined ? (this.opts.timeLimitMs - info.elapsedMs) / 1000 : Infinity;
    return Math.min(bySteps, byTime);
  }

  /** Trainer onStep hook. */
  step(info: StepInfo): void {
    if (!this.bar) return;
    const err = info.metrics.error;
    this.bar.update(info.step, {
      loss: info.loss.toFixed(4),
      err: err === undefined ? '-' : `${(100 * err).toFixed(1)}%`,
      lr: info.lr.toPrecision(3),
      ips: info.imagesPerSecond.toFixed(1),
      eta_s: formatDuration(this.eta(info)),
    });
  }

  /** Trainer onLog hook: a plain line per row when there is no bar (and not quiet). */
  log(row: LogRow): void {
    if (this.opts.quiet || this.bar) return;
    const fields = Object.entries(row)
      .filter(([k]) => k !== 'kind' && k !== 'step' && k !== 'time')
      .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toPrecision(4)) : v}`);
    this.stream.write(`${this.opts.label ? `${this.opts.label} ` : ''}${row.kind} step ${row.step}/${this.opts.total}: ${fields.join(', ')}\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
