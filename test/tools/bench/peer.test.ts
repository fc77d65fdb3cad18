import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { TorchPeers, benchBackends, comparisonRows, cpuMsPerImage, groupByThreads, peerSummary, probeResult, probeTorch, ratio } from '../../../tools/bench/peer.ts';

const FAKE_PYTHON = path.join(REPO_ROOT, 'test/fixtures/bench/fake-python.mjs');
const PROBE_SCRIPT = path.join(REPO_ROOT, 'test/fixtures/bench/probe-case.ts');
const MISSING_PYTHON = path.join(REPO_ROOT, 'test/fixtures/bench/no-such-python3');

describe('tools/bench/peer', () => {
  it('ratio: a / b to 3 significant digits, only for two positive numbers', () => {
    assert.equal(ratio(2, 4), 0.5);
    assert.equal(ratio(1, 3), 0.333); // 0.3333...
    assert.equal(ratio(0.0012, 0.1), 0.012); // small ratios keep their digits
    assert.equal(ratio(41.19, 122.633), 0.336); // 0.33588...
    for (const [a, b] of [[0, 1], [1, 0], [undefined, 1], [1, '2'], [-1, 2]]) assert.equal(ratio(a, b), undefined);
  });

  it('groupByThreads: one run per thread count, each spec once, in first-asked order', () => {
    const g = groupByThreads([
      { spec: 'a', threads: 1 }, { spec: 'b', threads: 2 }, { spec: 'a', threads: 1 }, { spec: 'c', threads: 1 }, { spec: 'a', threads: 2 },
    ]);
    assert.deepEqual([...g], [[1, ['a', 'c']], [2, ['b', 'a']]]);
  });

  it('probeResult: a backend that picks its own threads (0) counts every core', () => {
    assert.deepEqual(probeResult({ chosen: 'wasm', threads: 1 }), { backend: 'wasm', threads: 1 });
    assert.deepEqual(probeResult({ chosen: 'tensorflow', threads: 0 }), { backend: 'tensorflow', threads: os.cpus().length });
  });

  it('TorchPeers.threads: backend threads times workers, one per core at most', () => {
    const cores = os.cpus().length;
    assert.equal(TorchPeers.threads({ name: 'wasm', threads: 1 }), 1);
    assert.equal(TorchPeers.threads({ name: 'wasm', threads: 1 }, 2), Math.min(2, cores));
    assert.equal(TorchPeers.threads({ name: 'native', threads: 64 }, 2), cores);
  });

  it('cpuMsPerImage: per image as given, else per step over the batch', () => {
    assert.equal(cpuMsPerImage({ cpu_ms_per_image: 40, cpu_ms_per_step: 1, batch: 8 }), 40);
    assert.equal(cpuMsPerImage({ cpu_ms_per_step: 800, batch: 8 }), 100);
    assert.equal(cpuMsPerImage({ cpu_ms_per_step: 800 }), 800); // detection steps: batch 1 unless said
    assert.equal(cpuMsPerImage({ ms_per_step: 800 }), undefined);
  });

  it('peerSummary keeps the figures a reader compares', () => {
    const t = { case: 'x', threads: 2, images_per_s: 3, peak_rss_mb: 500, warmup_ms: 9, mkldnn: true };
    assert.deepEqual(peerSummary(t), { threads: 2, images_per_s: 3, peak_rss_mb: 500 });
  });

  it('comparisonRows: ratios against PyTorch and between backends on the same spec; an aborted case keeps its peak', () => {
    const wasm = { images_per_s: 1, peak_rss_mb: 900, pytorch: { images_per_s: 4, peak_rss_mb: 600 }, vs_pytorch: 0.25 };
    const native = { images_per_s: 3, peak_rss_mb: 800, pytorch: { images_per_s: 5, peak_rss_mb: 610 }, vs_pytorch: 0.6 };
    const aborted = { error: 'RuntimeError: Aborted()', at_exit: { peak_rss_mb: 4352 }, pytorch: { images_per_s: 0.2 } };
    const rows = comparisonRows([
      { target: wasm, spec: 'cls_train:resnet20:128', threads: 1, key: 'resnet20_train', backend: 'wasm' },
      { target: native, spec: 'cls_train:resnet20:128', threads: 2, key: 'resnet20_train', backend: 'native' },
      { target: aborted, spec: 'det_train:vgg16:1:600x1000', threads: 1, key: 'vgg16_train', backend: 'wasm' },
    ]);
    assert.deepEqual(rows[0], {
      case: 'resnet20_train', backend: 'wasm', spec: 'cls_train:resnet20:128', threads: 1, images_per_s: 1, pytorch_images_per_s: 4,
      vs_pytorch: 0.25, peak_rss_mb: 900, pytorch_peak_rss_mb: 600, vs_native: 0.333, // 1 / 3
    });
    assert.equal(rows[1].vs_wasm, 3); // 3 / 1
    assert.equal(rows[2].peak_rss_mb, 4352);
    assert.equal(rows[2].error, 'RuntimeError: Aborted()');
    assert.equal(rows[2].vs_pytorch, undefined);
    assert.equal(rows[2].vs_wasm, undefined);
  });

  describe('with a child process', function () {
    // each test starts one or two processes (tsx children take about 1 s, more on a loaded machine)
    this.timeout(60_000);

    it('torch absent: a note naming the interpreter, resdet numbers untouched', () => {
      const probe = probeTorch(MISSING_PYTHON);
      assert.equal(probe.ok, false);
      assert.match(!probe.ok ? probe.note : '', /PyTorch peer skipped: .*no-such-python3: ENOENT .*apt-get install python3-torch/);
      const peers = new TorchPeers({ python: MISSING_PYTHON, steps: 1, enabled: true, log: () => undefined });
      const target = { images_per_s: 2 };
      peers.add(target, 'cls_infer:resnet50:1', 1, 'resnet50_infer_b1', 'wasm');
      const out = peers.run(() => assert.fail('PyTorch must not run'));
      assert.deepEqual(target, { images_per_s: 2 });
      assert.match(String(out.pytorch.note), /no-such-python3/);
      assert.equal(out.comparison.length, 1);
      assert.equal(out.comparison[0].pytorch_images_per_s, undefined);
    });

    it('BENCH_PEER=0 (enabled false) runs nothing', () => {
      const peers = new TorchPeers({ python: MISSING_PYTHON, steps: 1, enabled: false });
      assert.deepEqual(peers.run(() => assert.fail('PyTorch must not run')).pytorch, { note: 'PyTorch peer skipped (BENCH_PEER=0)' });
    });

    it('runs the peer once per thread count and writes peer and ratio next to each result', () => {
      const peers = new TorchPeers({ python: FAKE_PYTHON, steps: 2, enabled: true, log: () => undefined });
      const wasm: Record<string, unknown> = { images_per_s: 5, batch: 8, cpu_ms_per_step: 400 };
      const wasmW2: Record<string, unknown> = { images_per_s: 8, batch: 8 };
      const native: Record<string, unknown> = { images_per_s: 30, batch: 8 };
      const failing: Record<string, unknown> = { images_per_s: 1 };
      peers.add(wasm, 'cls_train:resnet50:8', 1, 'resnet50_train', 'wasm');
      peers.add(wasmW2, 'cls_train:resnet50:8', 2, 'r50train_w2', 'wasm');
      peers.add(native, 'cls_train:resnet50:8', 2, 'resnet50_train', 'native');
      peers.add(failing, 'fail:det_train:vgg16:1:600x1000', 1, 'vgg16_train', 'wasm');
      const out = peers.run();
      // fake peer: 10 images/s and 100 MB per thread, 800 CPU ms per step of 8 (100 per image)
      assert.deepEqual(wasm, {
        images_per_s: 5, batch: 8, cpu_ms_per_step: 400,
        pytorch: { threads: 1, batch: 8, images_per_s: 10, cpu_ms_per_step: 800, peak_rss_mb: 100 },
        vs_pytorch: 0.5, // 5 / 10
        vs_pytorch_cpu: 2, // PyTorch 100 CPU ms per image / resdet 400 / 8 = 50
      });
      assert.equal(native.vs_pytorch_cpu, undefined); // no CPU time given
      assert.equal(wasmW2.vs_pytorch, 0.4); // 8 / 20
      assert.equal(native.vs_pytorch, 1.5); // 30 / 20
      assert.deepEqual(failing, { images_per_s: 1, pytorch: { error: 'RuntimeError: out of memory' } });
      assert.equal(out.pytorch.torch, '9.9.9');
      const runs = out.pytorch.runs as Array<Record<string, unknown>>;
      assert.deepEqual(runs.map((r) => [r.threads, r.cases]), [[1, ['cls_train:resnet50:8', 'fail:det_train:vgg16:1:600x1000']], [2, ['cls_train:resnet50:8']]]);
      const row = out.comparison.find((r) => r.case === 'resnet50_train' && r.backend === 'native');
      assert.equal(row?.vs_wasm, 6); // 30 / 5: same case and spec on both backends (not r50train_w2's 8)
    });

    it('benchBackends: the listed backends that load, with their threads; the others with their error', () => {
      const { backends, skipped } = benchBackends(PROBE_SCRIPT, { BENCH_BACKENDS: 'wasm, broken', RESDET_BACKEND: 'cpu' });
      assert.deepEqual(backends, [{ name: 'wasm', threads: 3 }]);
      assert.deepEqual(Object.keys(skipped), ['broken']);
      assert.match(skipped.broken, /backend broken did not load/);
    });
  });
});
