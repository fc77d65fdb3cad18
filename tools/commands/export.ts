/**
 * `resdet export`: writes a trained detector as a static web site (page, browser bundle, wasm
 * files, weights: tools/web/site.ts) that any static host can serve, no Node on the server.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { writeSite } from '../web/site.ts';

/** The files under `dir` with their sizes, for the summary. */
function listing(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => {
    const file = path.join(dir, e.name);
    return e.isDirectory() ? listing(file, `${prefix}${e.name}/`) : [`  ${prefix}${e.name} (${(fs.statSync(file).size / 1024).toFixed(0)} KiB)`];
  });
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a trained detector as a static web site (page, bundle, wasm files, weights) that any static host can serve')
    .requiredOption('--checkpoint <file>', 'a checkpoint written by resdet train-detector')
    .requiredOption('--out <dir>', 'the folder to write; must be empty or absent unless --force')
    .option('--force', 'replace a non-empty --out folder')
    .option('--sample <image>', 'an image (PNG, JPEG, WebP) the page offers to try')
    .action(async (f: { checkpoint: string; out: string; force?: boolean; sample?: string }) => {
      const spec = await writeSite(f.out, { checkpoint: f.checkpoint, sample: f.sample }, f.force ?? false);
      process.stdout.write([
        `wrote a ${spec.backbone} detector (${spec.classes.length} classes) as a static site: ${f.out}`,
        ...listing(f.out),
        `serve the folder with any static web server, e.g. python3 -m http.server --directory ${JSON.stringify(f.out)}`,
        '',
      ].join('\n'));
    });
}
