/**
 * Checks the relative links of Markdown pages: every `[text](target)` and `[name]: target`
 * definition that is not a URL must name a file or folder that exists (relative to the page),
 * and a `#fragment` must be the GitHub anchor of a heading in the page it points to. Links inside code (fenced blocks and `spans`)
 * are text, not links. test/tools/docs/links.test.ts runs it over README.md and docs/.
 *
 *   npx tsx tools/docs/links.ts README.md docs/*.md   # prints each broken link, exit 1 if any
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { headingAnchor } from './cli-reference.ts';

/** One broken link: where it is and why. */
export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** The page's text with fenced code blocks blanked (line numbers kept) and inline code removed. */
function proseOf(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length) fence = undefined;
      return '';
    }
    if (opener) {
      fence = opener[1];
      return '';
    }
    return line.replace(/(`+)[\s\S]*?\1/g, '');
  });
}

/**
 * The anchors of a page's headings, as GitHub makes them (a repeated heading gets `-1`, `-2`, ...).
 * @param text the Markdown source
 */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length) fence = undefined;
      continue;
    }
    if (opener) {
      fence = opener[1];
      continue;
    }
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = headingAnchor(heading[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/**
 * The broken relative links of one Markdown page.
 * @param file path of the page
 */
export function brokenLinks(file: string): BrokenLink[] {
  const text = readFileSync(file, 'utf8');
  const broken: BrokenLink[] = [];
  proseOf(text).forEach((line, i) => {
    const inline = [...line.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(line); // [name]: target
    for (const target of definition ? [...inline, definition[1]] : inline) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
      const [rawPath, fragment] = target.split('#', 2) as [string, string | undefined];
      const where = { file, line: i + 1, target };
      const resolved = rawPath === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(rawPath));
      if (!existsSync(resolved)) {
        broken.push({ ...where, reason: `no such file: ${path.relative(process.cwd(), resolved)}` });
        continue;
      }
      if (fragment === undefined || fragment === '') continue;
      if (!resolved.endsWith('.md') || statSync(resolved).isDirectory()) continue;
      if (!anchorsOf(readFileSync(resolved, 'utf8')).has(fragment.toLowerCase())) {
        broken.push({ ...where, reason: `no heading with anchor #${fragment} in ${path.relative(process.cwd(), resolved)}` });
      }
    }
  });
  return broken;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const broken = process.argv.slice(2).flatMap((f) => brokenLinks(f));
  for (const b of broken) process.stdout.write(`${b.file}:${b.line}: ${b.target}: ${b.reason}\n`);
  if (broken.length > 0) process.exitCode = 1;
}
