/**
 * `resdet serve`: runs a trained detector in the browser. Writes the static site of
 * `resdet export` (tools/web/site.ts) into a temporary folder, serves exactly its files on
 * loopback by default (tools/web/server.ts), prints the URL, and on Ctrl-C (SIGINT) or SIGTERM
 * stops, removes the folder and exits 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../../src/errors.ts';
import { serveSite } from '../web/server.ts';
import { writeSite } from '../web/site.ts';

/**
 * A TCP port: an integer from 0 (any free port) to 65535.
 * @throws UserError `--port: expected an integer from 0 to 65535, got "http"`
 */
export function parsePort(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 0 || v > 65535) throw new UserError(`--port: expected an integer from 0 to 65535, got ${JSON.stringify(text)}`);
  return v;
}

/** Loopback addresses: a server bound there is reachable from this machine only. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a web page that runs a trained detector in the browser (WebGPU, WebGL or wasm); Ctrl-C stops it')
    .requiredOption('--checkpoint <file>', 'a checkpoint written by resdet train-detector')
    .option('--port <n>', 'TCP port; 0 picks a free one', '8080')
    .option('--host <address>', 'address to listen on; the default is reachable from this machine only', '127.0.0.1')
    .option('--sample <image>', 'an image (PNG, JPEG, WebP) the page offers to try')
    .action(async (f: { checkpoint: string; port: string; host: string; sample?: string }) => {
      const port = parsePort(f.port);
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-serve-'));
      try {
        const site = path.join(tmp, 'site');
        const spec = await writeSite(site, { checkpoint: f.checkpoint, sample: f.sample });
        let server;
        try {
          server = await serveSite(site, f.host, port);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const why = e.code === 'EADDRINUSE' ? 'the port is in use (pick another with --port, or 0 for any free one)'
            : e.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
              : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' ? 'no such address on this machine' : e.message;
          throw new UserError(`cannot listen on ${f.host}:${port}: ${why}`);
        }
        if (!LOOPBACK.test(f.host)) process.stderr.write(`resdet serve: listening on ${f.host}: other machines can load the page and the checkpoint\n`);
        process.stdout.write(`resdet serve: ${spec.backbone} detector (${spec.classes.length} classes) at ${server.url} (Ctrl-C stops)\n`);
        const signal = await new Promise<NodeJS.Signals>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
        process.stderr.write(`resdet serve: stopped (${signal})\n`);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
}
