/**
 * The layering of STYLE.md ("Layers") as a test over the import graph: every static import,
 * `import type`, re-export (`export ... from`), dynamic `import('...')` with a literal
 * specifier and module URL (`new URL('./x.ts', import.meta.url)`, how worker threads are
 * given their modules) in the repository's .ts and .js files, read with TypeScript's own
 * pre-processor. Rules, by top-level folder:
 *
 * - src/ (the ground) imports nothing from another top-level folder;
 * - datasets/ and backbones/ import only src/;
 * - detectors/ imports only src/ and backbones/;
 * - tasks/ (the library's task layer) imports anything but tools/ and test/;
 * - no cycle between top-level folders (the package entry, index.ts at the root, counts as
 *   the folder ".").
 *
 * A failure lists every offending file with the specifier it imports, so the fix is obvious.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Folders never scanned: dependencies, build output, run output. */
const SKIP = new Set(['node_modules', 'dist', 'out', 'runs', '.git', '.tmp']);

/** The top-level folders each layer may import from (besides itself); absent: unconstrained. */
const ALLOWED: Record<string, readonly string[] | { not: readonly string[] }> = {
  src: [],
  datasets: ['src'],
  backbones: ['src'],
  detectors: ['src', 'backbones'],
  tasks: { not: ['tools', 'test'] },
};

/** One import of one file, resolved to the top-level folder it lands in. */
export interface ImportEdge {
  /** importing file, relative to the root (posix separators) */
  file: string;
  /** the specifier as written */
  specifier: string;
  kind: 'import' | 'url';
  /** top-level folder of the importing and imported file ("." for root files) */
  from: string;
  to: string;
}

/** Every .ts / .js file under `dir` (relative posix paths), skipping {@link SKIP}. */
function sourceFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) out.push(...sourceFiles(dir, r));
    } else if (/\.(ts|js|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
      out.push(r);
    }
  }
  return out;
}

/** The top-level folder of a root-relative path ("." for a file at the root). */
export function topFolder(rel: string): string {
  const i = rel.indexOf('/');
  return i < 0 ? '.' : rel.slice(0, i);
}

/** Module URLs handed to workers: `new URL('./x.ts', import.meta.url)`. */
const MODULE_URL = /new\s+URL\(\s*(['"`])(\.{1,2}\/[^'"`]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/**
 * The relative imports of one file's text, resolved against the file. Bare specifiers
 * (packages, node: builtins) are not part of the repository's graph and are left out.
 */
export function importsOf(file: string, text: string): ImportEdge[] {
  const info = ts.preProcessFile(text, true, true);
  const specs: Array<[string, ImportEdge['kind']]> = info.importedFiles.map((f) => [f.fileName, 'import']);
  for (const m of text.matchAll(MODULE_URL)) specs.push([m[2], 'url']);
  const edges: ImportEdge[] = [];
  for (const [specifier, kind] of specs) {
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    if (target.startsWith('../')) throw new Error(`${file}: imports ${specifier}, outside the repository`);
    edges.push({ file, specifier, kind, from: topFolder(file), to: topFolder(target) });
  }
  return edges;
}

/** The broken rule of one cross-folder edge, or undefined when the edge is allowed. */
export function ruleBroken(e: ImportEdge): string | undefined {
  if (e.from === e.to) return undefined;
  const allowed = ALLOWED[e.from];
  if (allowed === undefined) return undefined;
  if (Array.isArray(allowed)) {
    if (allowed.includes(e.to)) return undefined;
    return allowed.length === 0 ? `${e.from}/ imports nothing from another top-level folder` : `${e.from}/ imports only ${allowed.map((a) => `${a}/`).join(' and ')}`;
  }
  const { not } = allowed as { not: readonly string[] };
  return not.includes(e.to) ? `${e.from}/ imports anything but ${not.map((a) => `${a}/`).join(' and ')}` : undefined;
}

/**
 * Folder-level cycles: the strongly connected components of more than one folder (Tarjan),
 * each as its folders and, per folder arrow inside it, one file that draws the arrow.
 */
export function folderCycles(edges: readonly ImportEdge[]): Array<{ folders: string[]; arrows: string[] }> {
  const graph = new Map<string, Map<string, ImportEdge>>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    if (!graph.has(e.from)) graph.set(e.from, new Map());
    if (!graph.has(e.to)) graph.set(e.to, new Map());
    if (!graph.get(e.from)!.has(e.to)) graph.get(e.from)!.set(e.to, e);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!.keys()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) components.push(c.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((folders) => ({
    folders,
    arrows: folders.flatMap((a) => folders.filter((b) => graph.get(a)!.has(b)).map((b) => {
      const e = graph.get(a)!.get(b)!;
      return `${a}/ -> ${b}/ (${e.file} imports '${e.specifier}')`;
    })),
  }));
}

describe('layering: the import graph between top-level folders', function () {
  let edges: ImportEdge[];
  before(() => {
    edges = sourceFiles(ROOT).flatMap((f) => importsOf(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
  });

  it('reads the imports of every kind (static, type-only, re-export, dynamic, module URL)', function () {
    const text = [
      "import a from '../src/a.ts';",
      "import type { B } from '../backbones/b.ts';",
      "export { c } from '../datasets/c.ts';",
      "export * from './d.ts';",
      "const e = await import('../tools/e.ts');",
      "import 'node:fs';",
      "import x from 'commander';",
      "const w = new URL('../test/w.ts', import.meta.url);",
    ].join('\n');
    const got = importsOf('detectors/x.ts', text).map((e) => `${e.kind}:${e.to}:${e.specifier}`);
    assert.deepEqual(got.sort(), [
      'import:backbones:../backbones/b.ts', 'import:datasets:../datasets/c.ts', 'import:detectors:./d.ts',
      'import:src:../src/a.ts', 'import:tools:../tools/e.ts', 'url:test:../test/w.ts',
    ]);
    assert.deepEqual(importsOf('index.ts', "export * from './tasks/x.ts';").map((e) => [e.from, e.to]), [['.', 'tasks']]);
  });

  it('names the broken rule of an arrow and finds a cycle with the files that draw it', function () {
    const edge = (file: string, to: string): ImportEdge => ({ file, specifier: `../${to}/x.ts`, kind: 'import', from: topFolder(file), to });
    assert.equal(ruleBroken(edge('src/eval/coco.ts', 'datasets')), 'src/ imports nothing from another top-level folder');
    assert.equal(ruleBroken(edge('detectors/x.ts', 'datasets')), 'detectors/ imports only src/ and backbones/');
    assert.equal(ruleBroken(edge('tasks/x.ts', 'tools')), 'tasks/ imports anything but tools/ and test/');
    assert.equal(ruleBroken(edge('tasks/x.ts', 'detectors')), undefined);
    assert.equal(ruleBroken(edge('tools/x.ts', 'test')), undefined);
    const cycles = folderCycles([edge('src/a.ts', 'datasets'), edge('datasets/b.ts', 'src'), edge('tasks/c.ts', 'src')]);
    assert.deepEqual(cycles, [{
      folders: ['datasets', 'src'],
      arrows: ["datasets/ -> src/ (datasets/b.ts imports '../src/x.ts')", "src/ -> datasets/ (src/a.ts imports '../datasets/x.ts')"],
    }]);
  });

  it('scans the library', function () {
    // a scan that silently found nothing would pass every rule below
    for (const folder of ['src', 'datasets', 'backbones', 'detectors', 'tasks', 'tools', 'test']) {
      assert.ok(edges.some((e) => e.from === folder), `no imports read from ${folder}/`);
    }
  });

  it('keeps every layer to the folders it may import from', function () {
    const broken = edges.flatMap((e) => {
      const rule = ruleBroken(e);
      return rule ? [`${e.file} imports '${e.specifier}' (${e.to}/): ${rule}`] : [];
    });
    assert.deepEqual(broken, [], `${broken.length} imports break the layering:\n  ${broken.join('\n  ')}`);
  });

  it('has no cycle between top-level folders', function () {
    const cycles = folderCycles(edges).map((c) => `${c.folders.join(', ')}: ${c.arrows.join('; ')}`);
    assert.deepEqual(cycles, [], `folder cycles:\n  ${cycles.join('\n  ')}`);
  });
});
