/**
 * resdet's module system: a minimal PyTorch-like tree of modules over tfjs-core variables.
 *
 * Names follow PyTorch's dotted state_dict convention (`layer1.0.conv1.weight`,
 * `layer1.0.bn1.running_mean`), so a torchvision checkpoint maps onto a resdet model key by key.
 * Tensors are stored in tfjs layouts (conv weights HWIO, linear weights [in, out]); each parameter
 * records the PyTorch layout it corresponds to, so importers convert without knowing the model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConvRunner } from './fuse.ts';

/** How a tensor is laid out in a PyTorch state_dict, relative to resdet's tfjs layout. */
export type TorchLayout =
  | 'same' // identical shape and order (biases, BN vectors)
  | 'conv' // PyTorch OIHW <-> tfjs HWIO
  | 'linear'; // PyTorch [out, in] <-> tfjs [in, out]

/** One named tensor of a module: a trainable parameter or a buffer (e.g. BN running stats). */
export interface Slot {
  variable: tf.Variable;
  kind: 'param' | 'buffer';
  torchLayout: TorchLayout;
}

/**
 * A node of a model: named trainable parameters and buffers (its slots), child modules, train /
 * eval mode, `stateDict()` / `loadStateDict()` under PyTorch-style dotted names, `dispose()`.
 */
export abstract class Module {
  /** Training mode (batch statistics in BN, dropout on); set through train()/eval(). */
  training = true;
  private readonly slots = new Map<string, Slot>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable parameter initialised with `init` (which the module takes over). */
  protected param(name: string, init: tf.Tensor, torchLayout: TorchLayout = 'same'): tf.Variable {
    return this.addSlot(name, init, 'param', torchLayout);
  }

  /** Registers a non-trainable tensor that is part of the state (e.g. BN running mean). */
  protected buffer(name: string, init: tf.Tensor): tf.Variable {
    return this.addSlot(name, init, 'buffer', 'same');
  }

  private addSlot(name: string, init: tf.Tensor, kind: Slot['kind'], torchLayout: TorchLayout): tf.Variable {
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`duplicate name '${name}' in ${this.constructor.name}`);
    const variable = tf.variable(init, kind === 'param');
    init.dispose();
    this.slots.set(name, { variable, kind, torchLayout });
    return variable;
  }

  /** Registers a child module under `name` (its slots become `name.<slot>`). */
  protected child<M extends Module>(name: string, module: M): M {
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`duplicate name '${name}' in ${this.constructor.name}`);
    this.children.set(name, module);
    return module;
  }

  /** Direct children, in registration order. */
  namedChildren(): Array<[string, Module]> {
    return [...this.children.entries()];
  }

  /** Looks up a descendant by dotted path, e.g. `layer4` or `layer3.5`. */
  getModule(path: string): Module {
    return path.split('.').reduce<Module>((m, part) => {
      const next = m.children.get(part);
      if (!next) throw new Error(`no module '${path}' in ${this.constructor.name} (at '${part}')`);
      return next;
    }, this);
  }

  /** Every slot of this module and its descendants, with dotted names, in registration order. */
  namedSlots(prefix = ''): Array<[string, Slot]> {
    const out: Array<[string, Slot]> = [];
    for (const [name, slot] of this.slots) out.push([prefix + name, slot]);
    for (const [name, child] of this.children) out.push(...child.namedSlots(`${prefix}${name}.`));
    return out;
  }

  /** Parameters (not buffers), trainable or frozen. */
  namedParameters(): Array<[string, tf.Variable]> {
    return this.namedSlots()
      .filter(([, s]) => s.kind === 'param')
      .map(([n, s]) => [n, s.variable]);
  }

  /** Parameters that currently receive gradients. */
  trainableVariables(): tf.Variable[] {
    return this.namedParameters()
      .map(([, v]) => v)
      .filter((v) => v.trainable);
  }

  /** Number of scalar parameters (buffers excluded), as torchvision counts them. */
  numParameters(): number {
    return this.namedParameters().reduce((n, [, v]) => n + v.size, 0);
  }

  /** The state as name -> variable (parameters and buffers), PyTorch naming, tfjs layouts. */
  stateDict(): Map<string, tf.Variable> {
    return new Map(this.namedSlots().map(([n, s]) => [n, s.variable]));
  }

  /**
   * Copies tensors into the state by name. Shapes must match exactly (tfjs layouts).
   * @param strict when true, every slot must be given and no unknown name may appear
   * @returns names of slots that were not given, and given names that match no slot
   */
  loadStateDict(state: Map<string, tf.Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const slots = new Map(this.namedSlots());
    const missing = [...slots.keys()].filter((n) => !state.has(n));
    const unexpected = [...state.keys()].filter((n) => !slots.has(n));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(`state does not match the model: missing [${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}], unexpected [${unexpected.slice(0, 10).join(', ')}${unexpected.length > 10 ? ', ...' : ''}]`);
    }
    for (const [name, tensor] of state) {
      const slot = slots.get(name);
      if (!slot) continue;
      if (!tf.util.arraysEqual(slot.variable.shape, tensor.shape)) {
        throw new Error(`${name}: expected shape [${slot.variable.shape}], got [${tensor.shape}]`);
      }
      slot.variable.assign(tensor.dtype === slot.variable.dtype ? tensor : tf.tidy(() => tf.cast(tensor, slot.variable.dtype)));
    }
    return { missing, unexpected };
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode: BN uses running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Stops gradients to every parameter of this subtree (e.g. conv1 and conv2_x when fine-tuning). */
  freeze(): this {
    for (const [, s] of this.namedSlots()) if (s.kind === 'param') s.variable.trainable = false;
    return this;
  }

  /** Frees every variable of the subtree. */
  dispose(): void {
    for (const [, s] of this.namedSlots()) s.variable.dispose();
  }
}

/** A module with one input and one output tensor. */
export abstract class Layer extends Module {
  /** @param x the input, NHWC for image layers */
  abstract forward(x: tf.Tensor): tf.Tensor;

  /**
   * `forward` with its convolutions run by `runner` (src/nn/fuse.ts: conv + eval-mode BN + ReLU
   * as one fused conv). Layers that hold convolutions (Sequential, residual blocks, staged
   * backbones) override it; any other layer runs its own `forward`, so the result always equals
   * `forward(x)` up to float rounding.
   */
  forwardWith(x: tf.Tensor, runner: ConvRunner): tf.Tensor {
    void runner;
    return this.forward(x);
  }
}

/** Runs children in order; children are named '0', '1', ... as in torch.nn.Sequential. */
export class Sequential extends Layer {
  readonly layers: Layer[];

  constructor(layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.child(String(i), l));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, l) => l.forward(h), x));
  }

  override forwardWith(x: tf.Tensor, runner: ConvRunner): tf.Tensor {
    return tf.tidy(() => runner.chain(this.layers, x));
  }
}

/**
 * Runs named children in order, like torch.nn.Sequential(OrderedDict(...)): state names are
 * `<name>.<slot>`. Used to re-group layers that already belong to another module (e.g. a
 * detection head made of a classifier's layer4 and its pooling) without copying weights.
 */
export class NamedSequential extends Layer {
  readonly layers: Layer[];

  constructor(entries: Array<[string, Layer]>) {
    super();
    this.layers = entries.map(([name, layer]) => this.child(name, layer));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, l) => l.forward(h), x));
  }

  override forwardWith(x: tf.Tensor, runner: ConvRunner): tf.Tensor {
    return tf.tidy(() => runner.chain(this.layers, x));
  }
}
