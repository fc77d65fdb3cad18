/**
 * The JSONL metrics log of a run: one JSON object per line, one line per logged training window
 * (`kind: "train"`) or evaluation (`kind: "eval"`), with the step they were taken at. Plots and
 * reports read it back with `readMetricsLog`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { LogRow } from './trainer.ts';

/** Appends rows to a JSONL file (each line written whole with one write call). */
export class MetricsLog {
  private readonly fd: number;

  /**
   * @param file the log file
   * @param resumeAt when resuming from a checkpoint at this step: rows logged after it (by the
   *   run that was killed) are dropped first, so the log matches the resumed run; otherwise the
   *   file is started afresh
   */
  constructor(
    readonly file: string,
    resumeAt?: number,
  ) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const keep = resumeAt !== undefined && fs.existsSync(file) ? readMetricsLog(file).filter((r) => r.step <= resumeAt) : [];
    writeFileAtomic(file, keep.map((r) => `${JSON.stringify(r)}\n`).join(''));
    this.fd = fs.openSync(file, 'a');
  }

  write(row: LogRow): void {
    fs.writeSync(this.fd, `${JSON.stringify(row)}\n`);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * Reads a JSONL metrics log; a last line cut short by a crash is ignored.
 * @throws UserError naming the file and line for a bad row in the middle
 */
export function readMetricsLog(file: string): LogRow[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const rows: LogRow[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let row: LogRow;
    try {
      row = JSON.parse(line) as LogRow;
    } catch {
      if (i === lines.length - 1) return; // a torn final line
      throw inputError(file, `line ${i + 1}`, `expected a JSON object, got ${JSON.stringify(line.slice(0, 60))}`);
    }
    if (typeof row.step !== 'number' || (row.kind !== 'train' && row.kind !== 'eval')) {
      throw inputError(file, `line ${i + 1}`, 'expected {"kind": "train"|"eval", "step": number, ...}');
    }
    rows.push(row);
  });
  return rows;
}
