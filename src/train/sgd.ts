/**
 * Stochastic gradient descent with momentum and weight decay, with PyTorch's `torch.optim.SGD`
 * semantics (dampening 0, no Nesterov), the optimiser of the paper's Sec. 3.4 and 4.2
 * (momentum 0.9, weight decay 1e-4):
 *
 *   g   = grad + wd * w          (L2 decay folded into the gradient, as PyTorch does)
 *   buf = momentum * buf + g     (buf starts at 0, so the first step gives buf = g, as PyTorch)
 *   w   = w - lr * buf
 *
 * Momentum buffers are keyed by parameter name (the model's state-dict name) so that a
 * checkpoint stores them by name and a resumed run finds them again. Frozen parameters get no
 * gradient, hence no update and no decay.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, type Module } from '../nn/index.ts';

export interface SgdOptions {
  /** default 0.9 (paper Sec. 3.4) */
  momentum?: number;
  /** L2 weight decay, default 1e-4 (paper Sec. 3.4) */
  weightDecay?: number;
  /**
   * names of parameters that get no weight decay (e.g. BN scale/shift and biases, see
   * `bnAndBiasNames`); the paper decays every weight, so this defaults to none
   */
  noDecay?: ReadonlySet<string>;
}

export const SGD_DEFAULTS: Required<Omit<SgdOptions, 'noDecay'>> = { momentum: 0.9, weightDecay: 1e-4 };

/** Names of BN parameters and of every bias in `model` (the usual "no decay" set). */
export function bnAndBiasNames(model: Module): Set<string> {
  const names = new Set<string>();
  const walk = (m: Module, prefix: string): void => {
    if (m instanceof BatchNorm2d) {
      names.add(`${prefix}weight`);
      names.add(`${prefix}bias`);
    }
    for (const [name, child] of m.namedChildren()) walk(child, `${prefix}${name}.`);
  };
  walk(model, '');
  for (const [name] of model.namedParameters()) if (name === 'bias' || name.endsWith('.bias')) names.add(name);
  return names;
}

/** SGD over the named parameters of a model; owns one momentum buffer per parameter. */
export class Sgd {
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly noDecay: ReadonlySet<string>;
  /** parameter name -> momentum buffer (created lazily on the parameter's first update) */
  private readonly buffers = new Map<string, tf.Variable>();
  private readonly nameOf = new Map<tf.Variable, string>();

  /**
   * @param params the model's named parameters (`model.namedParameters()`); only those that
   *   receive a gradient in `apply` are updated
   */
  constructor(params: Array<[string, tf.Variable]>, opts: SgdOptions = {}) {
    this.momentum = opts.momentum ?? SGD_DEFAULTS.momentum;
    this.weightDecay = opts.weightDecay ?? SGD_DEFAULTS.weightDecay;
    this.noDecay = opts.noDecay ?? new Set();
    for (const [name, v] of params) this.nameOf.set(v, name);
  }

  /**
   * One update. `grads` maps a variable's tfjs name (as `tf.variableGrads` returns it) to its
   * gradient; the gradients are not disposed here (the caller owns them).
   */
  apply(grads: Record<string, tf.Tensor>, lr: number): void {
    const byTfName = new Map([...this.nameOf.keys()].map((v) => [v.name, v]));
    for (const [tfName, grad] of Object.entries(grads)) {
      const w = byTfName.get(tfName);
      if (!w) throw new Error(`Sgd: gradient for unknown variable '${tfName}'`);
      const name = this.nameOf.get(w)!;
      tf.tidy(() => {
        const wd = this.noDecay.has(name) ? 0 : this.weightDecay;
        const g = wd === 0 ? grad : tf.add(grad, tf.mul(w, wd));
        let buf = this.buffers.get(name);
        if (!buf) {
          buf = tf.variable(tf.zerosLike(w), false);
          this.buffers.set(name, buf);
        }
        const next = this.momentum === 0 ? g : tf.add(tf.mul(buf, this.momentum), g);
        buf.assign(next);
        w.assign(tf.sub(w, tf.mul(next, lr)));
      });
    }
  }

  /** The momentum buffers by parameter name (owned by the optimiser; do not dispose). */
  stateDict(): Map<string, tf.Variable> {
    return new Map(this.buffers);
  }

  /**
   * Replaces the momentum buffers (e.g. from a checkpoint); the tensors are copied (the caller still owns and disposes them).
   * @throws when a name is not a parameter of this optimiser or a shape differs
   */
  loadStateDict(state: Map<string, tf.Tensor>): void {
    const params = new Map([...this.nameOf].map(([v, n]) => [n, v]));
    for (const [name, t] of state) {
      const w = params.get(name);
      if (!w) throw new Error(`optimizer state: '${name}' is not a parameter of the model`);
      if (!tf.util.arraysEqual(w.shape, t.shape)) throw new Error(`optimizer state: ${name}: expected shape [${w.shape}], got [${t.shape}]`);
    }
    this.disposeBuffers();
    for (const [name, t] of state) this.buffers.set(name, tf.variable(t, false));
  }

  private disposeBuffers(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }

  /** Frees the momentum buffers. */
  dispose(): void {
    this.disposeBuffers();
  }
}
