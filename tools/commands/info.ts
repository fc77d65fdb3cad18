/** `resdet info`: which compute backend was chosen, why the others were skipped, versions. */
import type { Command } from 'commander';
import os from 'node:os';
import { initBackend } from '../../src/backend/index.ts';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the compute backend chosen, why the others were skipped, versions and threads')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const info = await initBackend();
      const report = { ...info, node: process.version, platform: `${os.platform()}-${os.arch()}`, cpus: os.cpus().length };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const lines = [
        `backend: ${info.chosen}`,
        ...info.attempts.map((a) => `  ${a.ok ? 'ok     ' : 'skipped'} ${a.name} (${a.pkg})${a.reason ? `: ${a.reason}` : ''}`),
        `tfjs-core: ${info.tfjsVersion}`,
        ...(info.wasmSimd !== undefined ? [`wasm: simd ${info.wasmSimd}, multithread ${info.wasmThreads}`] : []),
        ...(info.oneDnn !== undefined ? [`native: oneDNN ${info.oneDnn}, isa ${info.isa}`] : []),
        `threads: ${info.threads || 'native default'}`,
        `node: ${report.node} (${report.platform}, ${report.cpus} cpus)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
