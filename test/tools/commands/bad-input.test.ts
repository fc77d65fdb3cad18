/**
 * Hostile and careless input through the real CLI: each case writes its file in a temp folder,
 * runs `resdet`, and asserts the exact one-line error, exit status 1, empty stdout, and that the
 * run's output folder is exactly as it was (same names, sizes, contents and times).
 *
 * Classes covered (issue 10): JSON nested 300,000 deep (valid or not) in COCO files, VOC XML nested
 * 100,000 deep, PyTorch pickles declaring a 10^9-element view over one element or a 300,000-item
 * SETITEMS run, commander's own errors (unknown command or option, missing option, a flag parser
 * rejecting a value), a truncated JPEG (sharp's multi-line message), a closed stdout pipe
 * (EPIPE), and `--verbose` / `RESDET_DEBUG=1` for the stack. The runs overlap two at a time (most
 * of each is Node and tsx starting), so the suite costs about half its runs' time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SHARED_DATA, type CliResult } from '../../helpers/cli.ts';
import { bytesOf, makeZip, torchZip } from '../../helpers/hostile-weights.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { makeTinyShapes, TINY_DETECTOR_FLAGS } from '../../helpers/tiny-shapes.ts';

const BIN = path.join(REPO_ROOT, 'bin/resdet.js');

/** Runs the CLI without blocking; `closeStdout` closes the reading end at once (a `| head` that is done). */
function runCliAsync(args: string[], opts: { env?: Record<string, string>; closeStdout?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, RESDET_DEBUG: '', ...opts.env } });
    let stdout = '';
    let stderr = '';
    if (opts.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Every file under `dir` with its size, modification time and content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, name);
    const st = fs.statSync(file);
    out[name] = st.isDirectory() ? 'dir' : `${st.size} ${st.mtimeMs} ${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
  }
  return out;
}

/** One CLI case: its arguments, the folder it must leave alone, and what it must print. */
interface Case {
  args: string[];
  env?: Record<string, string>;
  closeStdout?: boolean;
  out?: string;
  result?: CliResult;
  before?: Record<string, string>;
}

describe('tools: bad input through the CLI (one line, exit 1, output folder untouched)', function () {
  const tmp = tmpDir('resdet-bad-input-');
  const file = (name: string, content: string | Uint8Array): string => {
    const p = path.join(tmp, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    return p;
  };
  /** An output folder holding a previous run's file, which no failed run may touch. */
  const outFolder = (name: string): string => {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'kept from before');
    return dir;
  };

  const n = 300_000;
  const gt = file('gt.json', JSON.stringify({ images: [{ id: 1, file_name: 'a.jpg', width: 10, height: 10 }], annotations: [], categories: [{ id: 1, name: 'a' }] }));
  const deepValid = file('deep-valid.json', `${'['.repeat(n)}${']'.repeat(n)}`);
  const deepCut = file('deep-cut.json', '['.repeat(n));
  const deepXml = file('voc/Annotations/a.xml', `<annotation><filename>a.jpg</filename><size><width>9</width><height>9</height></size>${'<object>'.repeat(100_000)}${'</object>'.repeat(100_000)}</annotation>`);
  file('voc/ImageSets/Main/test.txt', 'a\n');
  fs.mkdirSync(path.join(tmp, 'voc/results'), { recursive: true });
  const okVoc = file('ok-voc/Annotations/a.xml', '<annotation><filename>a.jpg</filename><size><width>9</width><height>9</height></size><object><name>a</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>');
  file('ok-voc/ImageSets/Main/test.txt', 'a\n');
  fs.mkdirSync(path.join(tmp, 'ok-voc/results'), { recursive: true });
  // 390 bytes: conv1.weight as a stride-0 view of 10^9 elements over a 1-element storage
  const stride0 = file('stride0.pt', torchZip([{ name: 'conv1.weight', key: '0', numel: 1, offset: 0, shape: [1000, 1000, 1000], stride: [0, 0, 0] }]));
  // {0: 1, 1: 1, ...}: one SETITEMS of 300,000 pairs and no tensor
  const items = Buffer.alloc(7 * n);
  for (let i = 0; i < n; i++) {
    items.write('J', 7 * i, 'latin1');
    items.writeInt32LE(i, 7 * i + 1);
    items.write('K\x01', 7 * i + 5, 'latin1');
  }
  const bigDict = file('big-dict.pt', makeZip([{ name: 'archive/data.pkl', data: bytesOf(0x80, 2, '}', '(', items, 'u', '.') }]));
  const shapes = path.join(tmp, 'shapes');
  const trainWith = (weights: string, out: string): string[] => ['train-detector', '--data', shapes, '--format', 'voc', '--preset', 'voc', '--backbone', 'resnet18',
    '--weights', weights, '--iterations', '1', '--out', out, '--quiet', ...TINY_DETECTOR_FLAGS];
  const evalCoco = (g: string, d: string): string[] => ['eval', 'coco', '--gt', g, '--dets', d];

  const cases: Record<string, Case> = {
    deepDets: { args: evalCoco(gt, deepValid) },
    deepGt: { args: evalCoco(deepCut, gt) },
    verbose: { args: [...evalCoco(gt, deepValid), '--verbose'] },
    debugEnv: { args: evalCoco(gt, deepValid), env: { RESDET_DEBUG: '1' } },
    deepXml: { args: ['eval', 'voc', '--annotations', path.dirname(deepXml), '--imageset', path.join(tmp, 'voc/ImageSets/Main/test.txt'), '--dets', path.join(tmp, 'voc/results')] },
    stride0: { args: [], out: outFolder('out-stride0') },
    bigDict: { args: [], out: outFolder('out-big-dict') },
    unknownCommand: { args: ['trian-detector'] },
    unknownOption: { args: [...evalCoco(gt, gt), '--nope'] },
    missingOption: { args: ['eval', 'coco', '--dets', gt] },
    badValue: { args: ['train-classifier', '--model', 'resnet20', '--data', tmp, '--batch-size', 'abc', '--out', ''], out: outFolder('out-bad-value') },
    epipe: { args: ['eval', 'voc', '--annotations', path.dirname(okVoc), '--imageset', path.join(tmp, 'ok-voc/ImageSets/Main/test.txt'), '--dets', path.join(tmp, 'ok-voc/results'), '--classes', 'a'], closeStdout: true },
  };
  cases.stride0.args = trainWith(stride0, cases.stride0.out!);
  cases.bigDict.args = trainWith(bigDict, cases.bigDict.out!);
  cases.badValue.args[cases.badValue.args.length - 1] = cases.badValue.out!;

  before(async function () {
    makeTinyShapes(shapes);
    const queue = Object.values(cases);
    for (const c of queue) if (c.out) c.before = snapshot(c.out);
    const worker = async (): Promise<void> => {
      for (let c = queue.shift(); c; c = queue.shift()) c.result = await runCliAsync(c.args, c);
    };
    await Promise.all([worker(), worker()]);
  });

  /** Exit 1, nothing on stdout, exactly `resdet: error: <line>` on stderr, the output folder as it was. */
  const expectLine = (name: string, line: string): void => {
    const c = cases[name];
    const r = c.result!;
    assert.equal(r.stderr, `resdet: error: ${line}\n`);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    if (c.out) assert.deepEqual(snapshot(c.out), c.before);
  };

  it('JSON nested 300,000 deep in a COCO results or instances file, valid or cut short', () => {
    expectLine('deepDets', `${deepValid}: JSON nested more than 1000 levels deep (at line 1 column 1001); refusing to read it`);
    expectLine('deepGt', `${deepCut}: JSON nested more than 1000 levels deep (at line 1 column 1001); refusing to read it`);
  });

  it('--verbose and RESDET_DEBUG=1 add the stack under the same line', () => {
    for (const name of ['verbose', 'debugEnv']) {
      const r = cases[name].result!;
      assert.equal(r.status, 1);
      const lines = r.stderr.split('\n');
      assert.equal(lines[0], `resdet: error: ${deepValid}: JSON nested more than 1000 levels deep (at line 1 column 1001); refusing to read it`);
      assert.match(lines[1], /^UserError: /);
      assert.ok(lines.some((l) => /^ {4}at checkJsonDepth /.test(l)), r.stderr);
    }
  });

  it('VOC annotation XML nested 100,000 deep', () => {
    expectLine('deepXml', `${deepXml}: elements nested more than 64 deep; refusing to read it`);
  });

  it('a 390-byte PyTorch checkpoint declaring a 10^9-element tensor: refused before allocating, --out untouched', () => {
    expectLine('stride0', `${stride0}: conv1.weight: shape [1000,1000,1000] stride [0,0,0] offset 0: declares 1000000000 elements, its storage holds 1`);
  });

  it('a checkpoint whose pickle builds a 300,000-key dict: one short line, --out untouched', () => {
    // the keys quoted up to 200 characters
    const keys = `[${Array.from({ length: 100 }, (_, i) => i).join(',')}`.slice(0, 200);
    expectLine('bigDict', `${bigDict}: no state_dict found: top-level keys are ${keys}..., expected tensors or one of state_dict, model_state_dict, model, net, module`);
  });

  it("commander's own errors: unknown command or option, missing option, a flag parser's refusal", () => {
    expectLine('unknownCommand', "unknown command 'trian-detector' (Did you mean train-detector?) (see resdet --help)");
    expectLine('unknownOption', "unknown option '--nope' (see resdet eval coco --help)");
    expectLine('missingOption', "required option '--gt <file>' not specified (see resdet eval coco --help)");
    expectLine('badValue', '--batch-size: expected a positive integer, got "abc" (see resdet train-classifier --help)');
  });

  it('a closed stdout (resdet ... | head) ends quietly with status 141, no stack', () => {
    const r = cases.epipe.result!;
    assert.equal(r.stderr, '');
    assert.equal(r.status, 141);
  });

  it("a truncated JPEG: sharp's multi-line message as one line naming the file", async function () {
    const weights = path.join(SHARED_DATA, 'cifar10-resnet', 'resnet20-12fca82f.th');
    const image = path.join(SHARED_DATA, 'cifar10', 'test', 'bird', '0338.jpg');
    if (!fs.existsSync(weights) || !fs.existsSync(image)) this.skip();
    const cut = file('cut.jpg', fs.readFileSync(image).subarray(0, 300));
    const r = await runCliAsync(['classify', '--model', 'resnet20', '--num-classes', '10', '--weights', weights, cut]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, r.stderr); // one line and its newline
    assert.ok(r.stderr.startsWith(`resdet: error: ${cut}: expected an image sharp can decode, got an error (Input file has corrupt header: VipsJpeg: premature end of JPEG image; `), r.stderr);
  });
});

