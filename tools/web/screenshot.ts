/**
 * A screenshot of the page with drawn detections, from a real run: writes the site of
 * `resdet serve` for a checkpoint, opens it in headless Chromium (Debian's package, driven by
 * playwright-core, a dev dependency), submits one image through the page's file input and saves
 * the page as a PNG. docs/browser-screenshot.png is made with it (command in docs/browser.md).
 *
 *   npx tsx tools/web/screenshot.ts --checkpoint FILE --image IMG --out PNG
 *     [--backend wasm] [--threshold 0.5] [--chromium /usr/bin/chromium]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { serveSite } from './server.ts';
import { writeSite } from './site.ts';

const { values: a } = parseArgs({
  options: {
    checkpoint: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' },
    backend: { type: 'string', default: 'wasm' }, threshold: { type: 'string', default: '0.5' },
    chromium: { type: 'string', default: '/usr/bin/chromium' }, width: { type: 'string', default: '900' },
  },
});
if (!a.checkpoint || !a.image || !a.out) {
  console.error('usage: npx tsx tools/web/screenshot.ts --checkpoint FILE --image IMG --out PNG [--backend wasm] [--threshold 0.5]');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-shot-'));
try {
  const site = path.join(tmp, 'site');
  await writeSite(site, { checkpoint: a.checkpoint });
  const server = await serveSite(site, '127.0.0.1', 0);
  const browser = await chromium.launch({ executablePath: a.chromium, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: Number(a.width), height: 700 } });
    await page.goto(`${server.url}?backend=${encodeURIComponent(a.backend)}&threshold=${encodeURIComponent(a.threshold)}`);
    await page.waitForFunction(() => document.querySelector('main')?.dataset.state !== 'loading', null, { timeout: 120_000 });
    await page.setInputFiles('#file', a.image);
    await page.waitForFunction(() => (window.resdet?.results.length ?? 0) > 0 || !!window.resdet?.lastError, null, { timeout: 120_000 });
    const error = await page.evaluate(() => window.resdet?.lastError);
    if (error) throw new Error(`the page reported: ${error}`);
    await page.screenshot({ path: a.out, fullPage: true });
    const r = await page.evaluate(() => window.resdet!.lastResult!);
    console.log(`wrote ${a.out}: ${r.detections.length} detections, ${r.backend}, ${r.ms.toFixed(1)} ms`);
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
