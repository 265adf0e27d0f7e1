/**
 * Weight regularizers: a penalty on a weight tensor that the model adds to the loss
 * (penalty = l1 * sum|w| + l2 * sum w^2, as Keras). The penalty is built from ops, so its
 * gradient reaches the weight through autograd like the data loss does.
 *
 * @example
 * gf.layers.dense({units: 64, kernelRegularizer: gf.regularizers.l2({l2: 1e-4})});
 * gf.layers.dense({units: 64, kernelRegularizer: 'l1_l2'});
 */
import { Tensor } from '../tensor';
import { ValueError } from '../errors';
import type { Regularizer } from './layer';

export type { Regularizer };

/** A Keras-serialized regularizer: `{class_name: 'L2', config: {l2: 0.01}}`. */
export interface RegularizerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

function checkFactor(who: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ValueError(`${who}: ${name} must be a finite number >= 0, got ${v}`);
  }
  return v;
}

/** l1 * sum|w| + l2 * sum w^2 (either factor may be 0). */
export class L1L2 implements Regularizer {
  readonly className: string = 'L1L2';
  readonly l1: number;
  readonly l2: number;

  constructor(args: { l1?: number; l2?: number } = {}) {
    this.l1 = checkFactor('l1l2', 'l1', args.l1 ?? 0.01);
    this.l2 = checkFactor('l1l2', 'l2', args.l2 ?? 0.01);
  }

  apply(w: Tensor): Tensor {
    let p: Tensor | null = null;
    if (this.l1 !== 0) p = w.abs().sum().mul(this.l1);
    if (this.l2 !== 0) {
      const q = w.square().sum().mul(this.l2);
      p = p === null ? q : p.add(q);
    }
    // both factors zero: a zero of the weight's dtype, still a scalar tensor
    return p ?? w.sum().mul(0);
  }

  getConfig(): Record<string, number> {
    return { l1: this.l1, l2: this.l2 };
  }
}

/** l1 * sum|w| (Keras default l1 = 0.01). */
export class L1 extends L1L2 {
  override readonly className = 'L1';
  constructor(args: { l1?: number } = {}) {
    super({ l1: args.l1 ?? 0.01, l2: 0 });
  }
  override getConfig(): Record<string, number> {
    return { l1: this.l1 };
  }
}

/** l2 * sum w^2 (Keras default l2 = 0.01). */
export class L2 extends L1L2 {
  override readonly className = 'L2';
  constructor(args: { l2?: number } = {}) {
    super({ l1: 0, l2: args.l2 ?? 0.01 });
  }
  override getConfig(): Record<string, number> {
    return { l2: this.l2 };
  }
}

/** @example gf.regularizers.l1({l1: 1e-3}) */
export const l1 = (args: { l1?: number } = {}): L1 => new L1(args);
/** @example gf.regularizers.l2({l2: 1e-4}) */
export const l2 = (args: { l2?: number } = {}): L2 => new L2(args);
/** @example gf.regularizers.l1l2({l1: 1e-5, l2: 1e-4}) */
export const l1l2 = (args: { l1?: number; l2?: number } = {}): L1L2 => new L1L2(args);

/** Every name getRegularizer accepts. */
export const regularizerNames: readonly string[] = ['l1', 'l2', 'l1_l2', 'l1l2'];

/**
 * A regularizer from a name ('l1', 'l2', 'l1_l2'/'l1l2', with the TensorFlow.js defaults of 0.01: Keras 3's L1L2 class defaults to 0), a Keras config
 * `{class_name, config}`, or a Regularizer (returned as is); null for undefined/null.
 * @example getRegularizer('l2')?.apply(w)
 */
export function getRegularizer(reg: string | Regularizer | RegularizerConfig | null | undefined): Regularizer | null {
  if (reg === undefined || reg === null) return null;
  if (typeof reg === 'string') {
    switch (reg.replace(/_/g, '').toLowerCase()) {
      case 'l1': return new L1();
      case 'l2': return new L2();
      case 'l1l2': return new L1L2();
      default:
        throw new ValueError(`getRegularizer: unknown regularizer '${reg}'; known: ${regularizerNames.join(', ')}`);
    }
  }
  if (typeof reg === 'object') {
    if ('apply' in reg && typeof reg.apply === 'function') return reg;
    if ('class_name' in reg && typeof reg.class_name === 'string') {
      const c = reg.config ?? {};
      const f = (k: string): number | undefined => (typeof c[k] === 'number' ? c[k] as number : undefined);
      switch (reg.class_name.replace(/_/g, '').toLowerCase()) {
        case 'l1': return new L1({ l1: f('l1') });
        case 'l2': return new L2({ l2: f('l2') });
        // a serialized L1L2 states both factors; a missing one is 0 there (Keras' class default)
        case 'l1l2': return new L1L2({ l1: f('l1') ?? 0, l2: f('l2') ?? 0 });
        default:
          throw new ValueError(`getRegularizer: unknown regularizer class '${reg.class_name}'; known: L1, L2, L1L2`);
      }
    }
  }
  throw new ValueError(`getRegularizer: expected a name, a Regularizer or {class_name, config}, got ${String(reg)}`);
}

/** The Keras serialization `{class_name, config}`, or null. */
export function serializeRegularizer(reg: Regularizer | null): RegularizerConfig | null {
  return reg === null ? null : { class_name: reg.className, config: reg.getConfig() };
}
