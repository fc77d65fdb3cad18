/**
 * Class colours of the page: the palette of `resdet detect --draw` (tasks/detection/draw.ts
 * `PALETTE`, which imports sharp and so cannot enter the browser bundle; a test checks the two
 * lists are equal), and a readable text colour on each.
 */

/** Class k gets `CLASS_COLORS[k % length]`. */
export const CLASS_COLORS = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff'];

/** Black or white, whichever contrasts more with `hex` (WCAG relative luminance). */
export function textColorOn(hex: string): string {
  const lin = (i: number): number => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(0) + 0.7152 * lin(1) + 0.0722 * lin(2);
  // contrast with black (l + 0.05) / 0.05 against white 1.05 / (l + 0.05): equal at l = 0.179
  return l > 0.179 ? '#000000' : '#ffffff';
}
