/**
 * One benchmark case per child process, shared by the benches (bench:train, bench:detect).
 *
 * The wasm backend aborts the whole process when its heap cannot grow past 4 GB (an Emscripten
 * `Aborted(...)` / `RuntimeError`), so a bench that tries the largest batch that fits runs each
 * case in a fresh process: an abort ends only that case, which is reported with its error line,
 * and every case starts with an empty heap (wasm memory never shrinks, so a case run after a
 * large one would otherwise inherit its heap).
 *
 * Protocol: the parent re-runs the bench script with `BENCH_CHILD=<spec>`; the child runs the
 * case named by the spec and prints its result as the last stdout line, one JSON object.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The environment variable that names the case a child runs. */
export const CHILD_ENV = 'BENCH_CHILD';

/**
 * Prefix of the stderr line a failing child writes at exit with what it could still measure
 * (e.g. the wasm heap size when it aborted); the parent adds it to the error as `at_exit`.
 */
export const EXIT_TAG = 'bench-child-at-exit: ';

/** Options of {@link runChild}. */
export interface ChildOptions {
  /** extra environment for the child (over this process's) */
  env?: Record<string, string>;
  /** kill the child after this many ms (reported as an error); default no limit */
  timeoutMs?: number;
}

/** The case spec this process was started to run, when it is a bench child. */
export function childSpec(): string | undefined {
  return process.env[CHILD_ENV] || undefined;
}

/**
 * The result of a finished child: its last stdout line parsed when it exited 0 with a JSON
 * object, else `{error}` with the error line from stderr (e.g. `RuntimeError: Aborted(OOM)`),
 * not the minified wasm glue source that Node prints above it.
 * @param status exit code, null when killed by a signal
 */
export function childResult(stdout: string, stderr: string, status: number | null, signal: string | null, timedOut = false): Record<string, unknown> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (status === 0 && line.startsWith('{')) return JSON.parse(line) as Record<string, unknown>;
  if (timedOut) return { error: `timed out (killed with ${signal ?? 'a signal'})` };
  const lines = stderr.trim().split('\n').map((l) => l.trim());
  // The wasm glue turns any uncaught exception into an abort: it prints `Aborted()` (or
  // `Aborted(<why>)` for its own failures, e.g. out of memory) and then Node prints the
  // exception itself, which is the line that says what went wrong.
  const thrown = lines.filter((l) => /^(Uncaught )?\w*Error\b/.test(l)).at(-1);
  const aborted = lines.find((l) => /^Aborted\(/.test(l));
  const why = thrown && aborted && aborted !== 'Aborted()' && !thrown.includes(aborted) ? `${aborted}; ${thrown}` : (thrown ?? aborted);
  const atExit = lines.filter((l) => l.startsWith(EXIT_TAG)).at(-1);
  return { error: (why ?? `exit ${status ?? signal}`).slice(0, 300), ...(atExit ? { at_exit: JSON.parse(atExit.slice(EXIT_TAG.length)) as unknown } : {}) };
}

/**
 * Runs `script` (a bench file) in a child Node process with the same loader flags (tsx) and
 * `BENCH_CHILD=spec`; blocks until it ends.
 *
 * The child's stdout and stderr go to temporary files, not pipes. A child's writes to a pipe are
 * asynchronous once the pipe is full: an abort (Node printing megabytes of wasm glue source, then
 * the error) that outruns a reader slowed by load ends the process with the rest of its stderr
 * unwritten, the error line included, and the result read `exit 1`. A file takes every byte at
 * once, so what the child wrote is all there when it exits, under any load.
 * @returns the child's JSON result, or `{error}` (see {@link childResult})
 */
export function runChild(script: string, spec: string, opts: ChildOptions = {}): Record<string, unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-bench-child-'));
  const outFile = path.join(dir, 'stdout');
  const errFile = path.join(dir, 'stderr');
  const out = fs.openSync(outFile, 'w');
  const err = fs.openSync(errFile, 'w');
  try {
    const r = spawnSync(process.execPath, [...process.execArgv, script], {
      env: { ...process.env, ...opts.env, [CHILD_ENV]: spec },
      stdio: ['ignore', out, err],
      timeout: opts.timeoutMs,
    });
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    if (r.error && !timedOut) return { error: `${r.error.message}`.slice(0, 300) };
    return childResult(fs.readFileSync(outFile, 'utf8'), fs.readFileSync(errFile, 'utf8'), r.status, r.signal, timedOut);
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The child side: runs the case and prints its result as one JSON line on stdout.
 * @param atExit measures what a failing case can still report (e.g. memory), written to stderr
 *   after {@link EXIT_TAG} when the process exits non-zero (an abort included)
 */
export async function serveChild(spec: string, run: (spec: string) => Promise<Record<string, unknown>>, atExit?: () => Record<string, unknown>): Promise<void> {
  if (atExit) {
    let reported = false;
    const report = () => {
      if (!reported) process.stderr.write(`\n${EXIT_TAG}${JSON.stringify(atExit())}\n`);
      reported = true;
    };
    // The wasm glue's own uncaughtException handler rethrows, which ends Node at once (exit code
    // 7, no 'exit' event): report before it runs. Alone, rethrow to keep Node's default ending.
    process.prependListener('uncaughtException', (err) => {
      report();
      if (process.listenerCount('uncaughtException') === 1) throw err;
    });
    process.on('exit', (code) => {
      if (code !== 0) report();
    });
  }
  process.stdout.write(`${JSON.stringify(await run(spec))}\n`);
}
