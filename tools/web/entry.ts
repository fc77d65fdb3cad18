/**
 * The browser bundle's entry (`resdet.js`, built by tools/web/site.ts): the browser API of
 * tasks/detection/browser.ts plus the page, which mounts itself on an element marked
 * `data-resdet-page` (index.html). A page of one's own imports the API from the same file:
 *
 *   import { useBackend, loadDetector } from './resdet.js';
 *   await useBackend('auto');
 *   const detector = await loadDetector('model.safetensors');
 *   const { detections } = await detector.detect(file);
 */
import { mountPage } from './page.ts';

export * from '../../tasks/detection/browser.ts';
export { drawResult, mountPage, type PageLabel, type PageResult, type PageState } from './page.ts';
/** the class colours of the page and of `resdet detect --draw` (class k: `CLASS_COLORS[k % length]`) */
export { PALETTE as CLASS_COLORS } from '../../tasks/detection/layout.ts';

const root = typeof document === 'undefined' ? null : document.querySelector<HTMLElement>('[data-resdet-page]');
if (root) {
  mountPage(root).catch((err: Error) => {
    root.dataset.state = 'error';
    const msg = root.querySelector('#message');
    if (msg) msg.textContent = `The page failed: ${err.message}`;
  });
}
