import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { degradationPanels, paperName, DEGRADATION_MODELS } from '../../../tools/commands/experiment.ts';

describe('resdet experiment degradation', () => {
  it('names networks as the paper does and splits them into plain / ResNet panels', () => {
    assert.deepEqual(DEGRADATION_MODELS.map(paperName), ['plain-20', 'plain-56', 'ResNet-20', 'ResNet-56']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-exp-'));
    try {
      const runs = DEGRADATION_MODELS.map((model, i) => {
        const log = path.join(dir, `${model}.jsonl`);
        fs.writeFileSync(log, `${JSON.stringify({ kind: 'train', step: 10, error: 0.5 + i / 10 })}\n${JSON.stringify({ kind: 'eval', step: 10, test_error: 0.6 })}\n`);
        return { model, log };
      });
      const [plain, res] = degradationPanels(runs);
      assert.equal(plain.title, 'plain networks');
      assert.deepEqual(plain.curves.map((c) => `${c.label} ${c.style}`), ['plain-20 train', 'plain-20 test', 'plain-56 train', 'plain-56 test']);
      assert.deepEqual(res.curves.map((c) => c.label), ['ResNet-20', 'ResNet-20', 'ResNet-56', 'ResNet-56']);
      assert.deepEqual(res.curves[2].points, [[10, 0.8]]);
      // same colour for a depth in both panels, as in Figure 6
      assert.equal(plain.curves[2].color, res.curves[2].color);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
