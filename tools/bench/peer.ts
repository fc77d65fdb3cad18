/**
 * Side-by-side benchmarks (issue 8, "Speed and memory"): bench:train and bench:detect run their
 * cases on a list of backends (`BENCH_BACKENDS=native,wasm`; default the backends that load
 * here, without the plain-JS cpu fallback) and, when Debian's python3-torch is installed, the
 * same cases in PyTorch in the same run (tools/parity/torch_bench.py, in a child process, with
 * the thread count each resdet case used). Each resdet result gets `pytorch` (the peer's result),
 * `vs_pytorch` (resdet images/s over PyTorch's) and `vs_pytorch_cpu` (the same from CPU ms per
 * image, PyTorch's over resdet's: steadier on a loaded machine), and the bench's JSON ends with one
 * `comparison` row per case and backend, with the ratios between backends too.
 *
 * Environment: BENCH_BACKENDS (comma list), BENCH_PYTHON (the interpreter that runs the peer,
 * default /usr/bin/python3: Debian's python3-torch lives there, not in a pyenv or venv python),
 * BENCH_PEER=0 (resdet only), BENCH_PEER_TIMEOUT_S (per PyTorch case; default none).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_ORDER } from '../../src/backend/index.ts';
import { runChild } from './child.ts';

/** The PyTorch peer script. */
export const TORCH_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../parity/torch_bench.py');

/** The child spec that makes a bench child report its backend instead of running a case. */
export const PROBE_SPEC = 'probe-backend';

/** A backend a bench runs its cases on, with the kernel threads it computes with. */
export interface BenchBackend {
  name: string;
  threads: number;
}

/** What a bench child answers to {@link PROBE_SPEC}: the backend it got and its threads. */
export function probeResult(info: { chosen: string; threads: number }): Record<string, unknown> {
  // 0 = the backend's own choice (tfjs-node uses every core)
  return { backend: info.chosen, threads: info.threads > 0 ? info.threads : os.cpus().length };
}

/**
 * The backends to run: BENCH_BACKENDS when set, else RESDET_BACKEND when set, else every backend
 * of BACKEND_ORDER but cpu. Each is probed in a child of `script` (which must answer
 * {@link PROBE_SPEC} with {@link probeResult}); those that do not load are returned in `skipped`
 * with their error, which is an error only when they were asked for by name.
 */
export function benchBackends(script: string, env: NodeJS.ProcessEnv = process.env): { backends: BenchBackend[]; skipped: Record<string, string> } {
  const listed = env.BENCH_BACKENDS ?? env.RESDET_BACKEND;
  const names = listed ? listed.split(',').map((s) => s.trim()).filter(Boolean) : BACKEND_ORDER.filter((b) => b !== 'cpu');
  const backends: BenchBackend[] = [];
  const skipped: Record<string, string> = {};
  for (const name of names) {
    const r = runChild(script, PROBE_SPEC, { env: { RESDET_BACKEND: name } });
    if (r.error || r.backend !== name) skipped[name] = String(r.error ?? `got ${String(r.backend)}`);
    else backends.push({ name, threads: Number(r.threads) });
  }
  return { backends, skipped };
}

/** Throughput ratio a / b to 3 significant digits; undefined unless both are positive numbers. */
export function ratio(a: unknown, b: unknown): number | undefined {
  return typeof a === 'number' && typeof b === 'number' && a > 0 && b > 0 ? Number((a / b).toPrecision(3)) : undefined;
}

/** Whether `python` can import torch and torchvision, with the versions or why not. */
export function probeTorch(python: string): { ok: true; torch: string } | { ok: false; note: string } {
  const r = spawnSync(python, ['-c', 'import torch, torchvision; print(torch.__version__, torchvision.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, note: `PyTorch peer skipped: ${python}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message} (set BENCH_PYTHON, or apt-get install python3-torch python3-torchvision)` };
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`;
    return { ok: false, note: `PyTorch peer skipped: ${python} cannot import torch and torchvision (${why}); apt-get install python3-torch python3-torchvision` };
  }
  return { ok: true, torch: r.stdout.trim() };
}

/** One resdet result that wants a PyTorch peer. */
interface PeerRequest {
  /** the result object; `pytorch` and `vs_pytorch` are written into it */
  target: Record<string, unknown>;
  /** torch_bench.py case spec */
  spec: string;
  threads: number;
  /** the bench's case key and the backend, for the comparison rows */
  key: string;
  backend: string;
}

/** Distinct torch specs per thread count, in first-asked order: one torch_bench.py run each. */
export function groupByThreads(requests: Array<{ spec: string; threads: number }>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const { spec, threads } of requests) {
    const list = out.get(threads) ?? [];
    if (!list.includes(spec)) list.push(spec);
    out.set(threads, list);
  }
  return out;
}

/** A resdet result's images/s (inference results also give it). */
function imagesPerS(r: Record<string, unknown>): number | undefined {
  return typeof r.images_per_s === 'number' ? r.images_per_s : undefined;
}

/**
 * CPU ms per image of a result (resdet's or the peer's): `cpu_ms_per_image`, else
 * `cpu_ms_per_step` over `batch` (1 when absent).
 */
export function cpuMsPerImage(r: Record<string, unknown>): number | undefined {
  if (typeof r.cpu_ms_per_image === 'number') return r.cpu_ms_per_image;
  return typeof r.cpu_ms_per_step === 'number' ? r.cpu_ms_per_step / (typeof r.batch === 'number' ? r.batch : 1) : undefined;
}

/** The compact PyTorch figures written next to a resdet result. */
export function peerSummary(t: Record<string, unknown>): Record<string, unknown> {
  const keep = ['threads', 'batch', 'input', 'images_per_s', 'ms_per_step', 'ms_per_image', 'cpu_ms_per_step', 'peak_rss_mb', 'proposals', 'rois', 'loss_last', 'detections', 'error'];
  return Object.fromEntries(keep.filter((k) => t[k] !== undefined).map((k) => [k, t[k]]));
}

/**
 * One comparison row per request: the resdet and PyTorch throughput and peak RSS side by side
 * and `vs_pytorch`; where the same case (same key and spec) ran on several backends,
 * `vs_<backend>` gives this backend's throughput over the other's.
 */
export function comparisonRows(requests: PeerRequest[]): Record<string, unknown>[] {
  const rows = requests.map((q): Record<string, unknown> => {
    const t = q.target;
    const peer = (t.pytorch ?? {}) as Record<string, unknown>;
    const row = {
      case: q.key, backend: q.backend, spec: q.spec, threads: q.threads,
      images_per_s: imagesPerS(t), pytorch_images_per_s: imagesPerS(peer), vs_pytorch: t.vs_pytorch, vs_pytorch_cpu: t.vs_pytorch_cpu,
      // an aborted case reports the peak it had reached at exit (./child.ts EXIT_TAG)
      peak_rss_mb: t.peak_rss_mb ?? (t.at_exit as Record<string, unknown> | undefined)?.peak_rss_mb, pytorch_peak_rss_mb: peer.peak_rss_mb,
      ...(t.error ? { error: String(t.error).slice(0, 120) } : {}),
    };
    return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined));
  });
  for (const row of rows) {
    for (const other of rows) {
      if (other !== row && other.case === row.case && other.spec === row.spec && other.backend !== row.backend) {
        const r = ratio(row.images_per_s, other.images_per_s);
        if (r !== undefined) row[`vs_${other.backend}`] = r;
      }
    }
  }
  return rows;
}

/** Options of {@link TorchPeers}; defaults from the environment (see the module comment). */
export interface PeerOptions {
  /** the Python interpreter (default BENCH_PYTHON, else /usr/bin/python3) */
  python?: string;
  /** false: resdet only (default: unless BENCH_PEER=0) */
  enabled?: boolean;
  /** timed steps per PyTorch case */
  steps: number;
  /** seconds per PyTorch case before it is killed (default BENCH_PEER_TIMEOUT_S, else none) */
  timeoutS?: number;
  /** progress lines (the commands run, why the peer is skipped); default stderr */
  log?: (line: string) => void;
}

/**
 * Collects the resdet results that want a peer while a bench runs, then runs PyTorch once per
 * thread count and writes each peer next to its result.
 */
export class TorchPeers {
  private readonly requests: PeerRequest[] = [];
  readonly python: string;
  readonly enabled: boolean;
  readonly timeoutS: number;
  private readonly log: (line: string) => void;

  constructor(readonly opts: PeerOptions) {
    this.python = opts.python ?? process.env.BENCH_PYTHON ?? '/usr/bin/python3';
    this.enabled = opts.enabled ?? process.env.BENCH_PEER !== '0';
    this.timeoutS = opts.timeoutS ?? Number(process.env.BENCH_PEER_TIMEOUT_S ?? 0);
    this.log = opts.log ?? ((line) => void process.stderr.write(`${line}\n`));
  }

  /**
   * The peer's thread count for a resdet case on `backend` with `workers` data-parallel threads:
   * the threads it computed with, at most one per core (more would only oversubscribe PyTorch).
   */
  static threads(backend: BenchBackend, workers = 1): number {
    return Math.max(1, Math.min(backend.threads * workers, os.cpus().length));
  }

  /**
   * Asks for the PyTorch peer of a result (an error result too: PyTorch's number still shows what
   * the case costs where it runs).
   * @param spec the torch_bench.py case, e.g. `cls_train:resnet50:8`
   * @param threads the threads the resdet case computed with
   */
  add(target: Record<string, unknown>, spec: string, threads: number, key: string, backend: string): void {
    this.requests.push({ target, spec, threads, key, backend });
  }

  /**
   * Runs the peers (or notes why not) and writes `pytorch` / `vs_pytorch` into the targets.
   * @param run runs torch_bench.py for one thread count; the default spawns `python`
   * @returns what to print under the bench's `pytorch` key and the comparison rows
   */
  run(run = (threads: number, specs: string[]) => this.spawn(threads, specs)): { pytorch: Record<string, unknown>; comparison: Record<string, unknown>[] } {
    if (!this.enabled) return { pytorch: { note: 'PyTorch peer skipped (BENCH_PEER=0)' }, comparison: comparisonRows(this.requests) };
    const probe = probeTorch(this.python);
    if (!probe.ok) {
      this.log(probe.note);
      return { pytorch: { python: this.python, note: probe.note }, comparison: comparisonRows(this.requests) };
    }
    const runs: Record<string, unknown>[] = [];
    for (const [threads, specs] of groupByThreads(this.requests)) {
      const t0 = performance.now();
      const out = run(threads, specs);
      const cases = (out.cases ?? {}) as Record<string, Record<string, unknown>>;
      for (const q of this.requests.filter((r) => r.threads === threads)) {
        const peer = cases[q.spec] ?? { error: String(out.error ?? `no result for ${q.spec}`) };
        q.target.pytorch = peerSummary(peer);
        const vs = ratio(imagesPerS(q.target), imagesPerS(peer));
        if (vs !== undefined) q.target.vs_pytorch = vs;
        // the same ratio from CPU time (cost per image, inverted): steadier than wall time on a
        // loaded machine; with several threads it also counts threads that spin while waiting
        const vsCpu = ratio(cpuMsPerImage(peer), cpuMsPerImage(q.target));
        if (vsCpu !== undefined) q.target.vs_pytorch_cpu = vsCpu;
      }
      runs.push({ threads, cases: specs, wall_s: Number(((performance.now() - t0) / 1000).toFixed(1)), ...(out.error ? { error: out.error } : {}) });
    }
    const [torch, torchvision] = probe.torch.split(' ');
    return { pytorch: { python: this.python, script: 'tools/parity/torch_bench.py', torch, torchvision, steps: this.opts.steps, runs }, comparison: comparisonRows(this.requests) };
  }

  /** torch_bench.py for one thread count: its JSON, or `{error}` with its last stderr line. */
  private spawn(threads: number, specs: string[]): Record<string, unknown> {
    const args = [TORCH_SCRIPT, '--threads', String(threads), '--steps', String(this.opts.steps), '--cases', specs.join(',')];
    if (this.timeoutS > 0) args.push('--timeout', String(this.timeoutS));
    this.log(`PyTorch peer: ${this.python} ${args.join(' ')}`);
    const r = spawnSync(this.python, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      if (r.status === 0) return JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      // falls through to the error below
    }
    const why = r.error?.message ?? r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`;
    return { error: `torch_bench.py: ${why}`.slice(0, 300) };
  }
}
