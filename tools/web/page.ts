/**
 * The page of `resdet serve` / `resdet export` (tools/web/index.html): loads the site's detector,
 * lets a person pick, drop or try a sample image, draws the labelled boxes and lists them, with
 * the backend and the time per image. Every failure (a file that is not an image, a huge image,
 * a checkpoint that is not a detector, a backend that will not start) is a message in the page.
 *
 * For tests and scripts the page publishes its state: `main[data-state]` is loading, ready, busy
 * or error; `window.resdet` holds `lastResult`, `lastLabels`, `results`, `lastError` and `backend`; each table
 * row carries its detection's exact numbers in data attributes.
 *
 * URL parameters: `backend` (auto, webgpu, webgl, wasm) and `threshold` (0..1) preset the controls.
 */
import {
  BROWSER_BACKENDS, decodeImage, loadDetector, useBackend, type BrowserBackend, type BrowserDetector, type DetectionResult, type RgbImage,
} from '../../tasks/detection/browser.ts';
import { classColor, placeDetections, textColorOn, type Rect } from '../../tasks/detection/layout.ts';

/** What the site's `site.json` says (tools/web/site.ts). */
interface SiteConfig {
  checkpoint: string;
  name?: string;
  sample?: string;
}

/** One image's result as the page publishes it. */
export interface PageResult extends DetectionResult {
  file: string;
}

/** The page state on `window.resdet`. */
export interface PageState {
  backend?: string;
  lastResult?: PageResult;
  /** where {@link drawResult} put the last image's labels (canvas pixels), in the order of its detections */
  lastLabels?: Array<PageLabel | undefined>;
  results: PageResult[];
  lastError?: string;
  classes?: string[];
}

declare global {
  interface Window {
    resdet?: PageState;
  }
}

/** `1 detection`, `2 detections`. */
function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;
}

function byId<T extends HTMLElement>(root: ParentNode, id: string): T {
  const el = root.querySelector<T>(`#${id}`);
  if (!el) throw new Error(`the page has no #${id} element`);
  return el;
}

/** Small images are shown enlarged so that their shorter side is at least this (as `resdet detect --draw`). */
const MIN_SHORT_SIDE = 320;

/** A label as drawn on the canvas. */
export type PageLabel = Rect & { text: string };

/**
 * Draws the image and its detections on `canvas`: a box in the class colour with a dark halo,
 * and a filled label `class score` placed as `resdet detect --draw` places them
 * (tasks/detection/layout.ts `placeDetections`: above the box where there is room, never over
 * another label, never off the canvas, with a line to its box when a crowd pushed it away; a
 * label that fits nowhere is left out, its detection still listed in the table). Images with a
 * shorter side under 320 px are enlarged (pixels kept sharp) so labels stay readable; CSS then
 * fits the canvas to the page.
 * @returns each detection's label (undefined where none fitted), in `result.detections`' order
 */
export function drawResult(canvas: HTMLCanvasElement, img: RgbImage, result: DetectionResult): Array<PageLabel | undefined> {
  const k = Math.max(1, MIN_SHORT_SIDE / Math.min(img.width, img.height));
  canvas.width = Math.round(img.width * k);
  canvas.height = Math.round(img.height * k);
  const ctx = canvas.getContext('2d');
  if (!ctx) return result.detections.map(() => undefined);
  const rgba = new ImageData(img.width, img.height);
  for (let i = 0, j = 0; i < img.rgb.length; i += 3, j += 4) {
    rgba.data[j] = img.rgb[i];
    rgba.data[j + 1] = img.rgb[i + 1];
    rgba.data[j + 2] = img.rgb[i + 2];
    rgba.data[j + 3] = 255;
  }
  const original = new OffscreenCanvas(img.width, img.height);
  original.getContext('2d')?.putImageData(rgba, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(original, 0, 0, canvas.width, canvas.height);
  // sizes in canvas pixels that look the same on screen whatever the canvas's size
  const shown = Math.min(1, (canvas.parentElement?.clientWidth || canvas.width) / canvas.width);
  const px = (v: number): number => Math.max(1, v / shown);
  const font = px(14);
  ctx.font = `600 ${font}px system-ui, sans-serif`;
  ctx.textBaseline = 'top';
  const texts = result.detections.map((d) => `${d.label} ${d.score.toFixed(2)}`);
  const { order, placed } = placeDetections(
    result.detections.map((d) => d.box),
    result.detections.map((d) => d.score),
    texts.map((t) => ({ width: Math.ceil(ctx.measureText(t).width + px(6)), height: Math.ceil(font + px(4)) })),
    k,
    canvas,
  );
  const labels = placed.map((p, i): PageLabel | undefined => p.label && { ...p.label, text: texts[i] });
  // least confident drawn first; every box, then every leader line, then every label, so that
  // no outline crosses a label
  const drawn = [...order].reverse();
  for (const i of drawn) {
    const [x1, y1, x2, y2] = placed[i].box;
    ctx.lineWidth = px(4);
    ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    ctx.lineWidth = px(2);
    ctx.strokeStyle = classColor(result.detections[i].classIndex);
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  }
  for (const i of drawn) {
    const leader = placed[i].leader;
    if (!leader) continue;
    ctx.lineWidth = px(1.5);
    ctx.strokeStyle = classColor(result.detections[i].classIndex);
    ctx.beginPath();
    ctx.moveTo(leader[0], leader[1]);
    ctx.lineTo(leader[2], leader[3]);
    ctx.stroke();
  }
  for (const i of drawn) {
    const l = labels[i];
    if (!l) continue;
    const color = classColor(result.detections[i].classIndex);
    ctx.fillStyle = color;
    ctx.fillRect(l.x, l.y, l.width, l.height);
    ctx.fillStyle = textColorOn(color);
    ctx.fillText(l.text, l.x + px(3), l.y + px(2));
  }
  return labels;
}

/** Fills the detections table; each row's data attributes hold the exact numbers. */
function listResult(table: HTMLTableElement, result: DetectionResult): void {
  const body = table.tBodies[0];
  body.replaceChildren();
  result.detections.forEach((d, i) => {
    const row = body.insertRow();
    row.dataset.label = d.label;
    row.dataset.score = String(d.score);
    row.dataset.box = JSON.stringify(d.box);
    row.insertCell().textContent = String(i + 1);
    const label = row.insertCell();
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = classColor(d.classIndex);
    label.append(swatch, d.label);
    row.insertCell().textContent = d.score.toFixed(3);
    row.insertCell().textContent = `[${d.box.map((v) => v.toFixed(1)).join(', ')}]`;
  });
  table.hidden = false;
}

/**
 * Runs the page in `root` (the element holding index.html's controls).
 * @param siteUrl the site's config (checkpoint and sample names)
 */
export async function mountPage(root: HTMLElement, siteUrl = './site.json'): Promise<void> {
  const state: PageState = { results: [] };
  window.resdet = state;
  const el = {
    model: byId<HTMLParagraphElement>(root, 'model'),
    backend: byId<HTMLSelectElement>(root, 'backend'),
    threshold: byId<HTMLInputElement>(root, 'threshold'),
    file: byId<HTMLInputElement>(root, 'file'),
    sample: byId<HTMLButtonElement>(root, 'sample'),
    message: byId<HTMLParagraphElement>(root, 'message'),
    drop: byId<HTMLDivElement>(root, 'drop'),
    figure: byId<HTMLElement>(root, 'figure'),
    canvas: byId<HTMLCanvasElement>(root, 'canvas'),
    caption: byId<HTMLElement>(root, 'caption'),
    table: byId<HTMLTableElement>(root, 'detections'),
  };
  const setState = (s: 'loading' | 'ready' | 'busy' | 'error'): void => {
    root.dataset.state = s;
  };
  const say = (text: string, error = false): void => {
    el.message.textContent = text;
    el.message.classList.toggle('error', error);
    if (error) state.lastError = text;
  };
  const params = new URLSearchParams(location.search);
  const wanted = params.get('backend');
  if (wanted && (wanted === 'auto' || (BROWSER_BACKENDS as readonly string[]).includes(wanted))) el.backend.value = wanted;
  const t = params.get('threshold');
  if (t !== null && Number(t) >= 0 && Number(t) <= 1) el.threshold.value = t;

  let detector: BrowserDetector | undefined;
  let checkpoint: Uint8Array | undefined;
  let config: SiteConfig | undefined;

  /** (Re)loads the detector on the selected backend. */
  const load = async (): Promise<void> => {
    setState('loading');
    say('Loading the detector…');
    detector?.dispose();
    detector = undefined;
    try {
      if (!config) {
        const res = await fetch(siteUrl);
        if (!res.ok) throw new Error(`${siteUrl}: could not fetch the site's config (HTTP ${res.status})`);
        config = await res.json() as SiteConfig;
        if (config.sample) el.sample.hidden = false;
      }
      if (!checkpoint) {
        const res = await fetch(config.checkpoint);
        if (!res.ok) throw new Error(`${config.checkpoint}: could not fetch the checkpoint (HTTP ${res.status})`);
        checkpoint = new Uint8Array(await res.arrayBuffer());
      }
      state.backend = await useBackend(el.backend.value as BrowserBackend | 'auto');
      detector = await loadDetector(checkpoint, config.name ?? config.checkpoint);
      state.classes = detector.classes;
      el.model.textContent = `${config.name ?? config.checkpoint}: ${detector.spec.backbone} Faster R-CNN, ${count(detector.classes.length, 'class')} (${detector.classes.join(', ')}), ${count(detector.step, 'update')}. Backend: ${state.backend}.`;
      say('Ready: choose, drop or try an image.');
      setState('ready');
    } catch (err) {
      say(`Cannot run the detector: ${(err as Error).message}`, true);
      el.model.textContent = 'No detector loaded.';
      setState('error');
    }
  };

  /** Detects objects in each file, one after the other. */
  const run = async (files: Iterable<File>): Promise<void> => {
    if (!detector) return say('No detector is loaded: see the message above, or pick another backend.', true);
    const threshold = Number(el.threshold.value);
    if (!(threshold >= 0 && threshold <= 1)) return say(`Score threshold: expected a number from 0 to 1, got ${JSON.stringify(el.threshold.value)}`, true);
    setState('busy');
    try {
      for (const file of files) {
        say(`Detecting in ${file.name}…`);
        try {
          const img = await decodeImage(file, file.name);
          const result: PageResult = { file: file.name, ...(await detector.detect(img, { scoreThreshold: threshold })) };
          state.lastLabels = drawResult(el.canvas, img, result);
          el.figure.hidden = false;
          el.caption.textContent = `${file.name}, ${img.width}x${img.height}: ${count(result.detections.length, 'detection')}; backend ${result.backend}, ${result.ms.toFixed(1)} ms per image`;
          listResult(el.table, result);
          state.lastResult = result;
          state.results.push(result);
          say(`${file.name}: ${count(result.detections.length, 'detection')} in ${result.ms.toFixed(1)} ms (${result.backend}).`);
        } catch (err) {
          say((err as Error).message, true);
        }
      }
    } finally {
      setState('ready');
    }
  };

  el.backend.addEventListener('change', () => void load());
  el.file.addEventListener('change', () => {
    const files = [...(el.file.files ?? [])];
    el.file.value = '';
    void run(files);
  });
  el.drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    el.drop.classList.add('over');
  });
  el.drop.addEventListener('dragleave', () => el.drop.classList.remove('over'));
  el.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    el.drop.classList.remove('over');
    void run([...(e.dataTransfer?.files ?? [])]);
  });
  el.sample.addEventListener('click', () => void (async () => {
    if (!config?.sample) return;
    const res = await fetch(config.sample);
    if (!res.ok) return say(`${config.sample}: could not fetch the sample (HTTP ${res.status})`, true);
    await run([new File([await res.blob()], config.sample)]);
  })());
  await load();
}
