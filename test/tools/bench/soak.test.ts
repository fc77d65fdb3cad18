/** The short form of `npm run bench:soak` (issue 10, "Under load"): tensors and RSS stay flat. */
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/backend/index.ts';
import { soakEval, soakTrain } from '../../../tools/bench/soak.ts';

interface Sample { tensors: number; rss_mb: number }

describe('bench:soak (short): memory stays flat', function () {
  // A memory check, not a timing: about 30 s each on an idle 2-core machine, several times that
  // when other jobs share the cores (the default 120 s timeout was hit at a load average of 5).
  this.timeout(600_000);
  before(async () => {
    await initBackend();
  });

  it('100 training steps of ResNet-20: no tensor added after the warm-up, RSS within 150 MB', () => {
    const r = soakTrain(100, 8, 20) as { after_warmup: Sample; end: Sample };
    assert.equal(r.end.tensors, r.after_warmup.tensors);
    assert.ok(r.end.rss_mb - r.after_warmup.rss_mb < 150, `RSS ${r.after_warmup.rss_mb} -> ${r.end.rss_mb} MB`);
  });

  it('a 1,000-image CIFAR-10 evaluation: no tensor left, RSS within 150 MB', async () => {
    const r = (await soakEval(1000)) as { skipped?: string; images: number; after_warmup: Sample; end: Sample };
    if (r.skipped) {
      console.log(`      (skipped: ${r.skipped})`);
      return;
    }
    assert.equal(r.images, 1000);
    assert.equal(r.end.tensors, r.after_warmup.tensors);
    assert.ok(r.end.rss_mb - r.after_warmup.rss_mb < 150, `RSS ${r.after_warmup.rss_mb} -> ${r.end.rss_mb} MB`);
  });
});
