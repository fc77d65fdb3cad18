/**
 * Box coding as in R-CNN / Fast R-CNN (Girshick et al.) and torchvision's `BoxCoder`:
 * a box is encoded relative to a reference box (an anchor or a proposal) as
 * `(wx * dx/w, wy * dy/h, ww * log(w'/w), wh * log(h'/h))`, with the centre offsets dx, dy.
 * The weights undo the target normalisation: the RPN uses (1, 1, 1, 1); the Fast R-CNN head
 * normalises its targets by std (0.1, 0.1, 0.2, 0.2) (py-faster-rcnn BBOX_NORMALIZE_STDS), i.e.
 * weights (10, 10, 5, 5) as torchvision's RoIHeads.
 */
import { numBoxes, type Boxes } from './ops.ts';

/** `[wx, wy, ww, wh]` */
export type BoxWeights = readonly [number, number, number, number];

/** torchvision's clamp on dw, dh before exp: log(1000 / 16), so no box grows over ~62x its reference. */
export const BBOX_XFORM_CLIP = Math.log(1000 / 16);

/** Width, height and centre of box `o / 4` of a packed array: [w, h, cx, cy]. */
function geometry(boxes: ArrayLike<number>, o: number): [number, number, number, number] {
  const w = boxes[o + 2] - boxes[o];
  const h = boxes[o + 3] - boxes[o + 1];
  return [w, h, boxes[o] + 0.5 * w, boxes[o + 1] + 0.5 * h];
}

export class BoxCoder {
  constructor(
    readonly weights: BoxWeights = [1, 1, 1, 1],
    readonly clip: number = BBOX_XFORM_CLIP,
  ) {}

  /**
   * Regression targets of `boxes` relative to `references`, pairwise by index.
   * @param boxes [R, 4] xyxy ground truth
   * @param references [R, 4] xyxy anchors or proposals
   * @returns [R, 4] deltas (dx, dy, dw, dh)
   */
  encode(boxes: Boxes, references: Boxes): Float32Array {
    const n = numBoxes(boxes);
    if (numBoxes(references) !== n) throw new Error(`encode: ${n} boxes but ${numBoxes(references)} references`);
    const [wx, wy, ww, wh] = this.weights;
    const out = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) {
      const o = 4 * i;
      const [rw, rh, rx, ry] = geometry(references, o);
      const [gw, gh, gx, gy] = geometry(boxes, o);
      out[o] = (wx * (gx - rx)) / rw;
      out[o + 1] = (wy * (gy - ry)) / rh;
      out[o + 2] = ww * Math.log(gw / rw);
      out[o + 3] = wh * Math.log(gh / rh);
    }
    return out;
  }

  /**
   * Applies deltas to reference boxes (the inverse of encode), clamping dw, dh at `clip`.
   * @param deltas [R, 4 * K] (K boxes per reference, e.g. one per class)
   * @param references [R, 4] xyxy
   * @returns [R, 4 * K] xyxy
   */
  decode(deltas: ArrayLike<number>, references: Boxes): Float32Array {
    const n = numBoxes(references);
    if (n === 0) return new Float32Array(0);
    const perRef = deltas.length / n;
    if (!Number.isInteger(perRef) || perRef % 4 !== 0) throw new Error(`decode: ${deltas.length} deltas for ${n} references`);
    const [wx, wy, ww, wh] = this.weights;
    const out = new Float32Array(deltas.length);
    for (let i = 0; i < n; i++) {
      const [rw, rh, rx, ry] = geometry(references, 4 * i);
      for (let k = 0; k < perRef; k += 4) {
        const d = i * perRef + k;
        const cx = (deltas[d] / wx) * rw + rx;
        const cy = (deltas[d + 1] / wy) * rh + ry;
        const w = Math.exp(Math.min(deltas[d + 2] / ww, this.clip)) * rw;
        const h = Math.exp(Math.min(deltas[d + 3] / wh, this.clip)) * rh;
        out[d] = cx - 0.5 * w;
        out[d + 1] = cy - 0.5 * h;
        out[d + 2] = cx + 0.5 * w;
        out[d + 3] = cy + 0.5 * h;
      }
    }
    return out;
  }
}
