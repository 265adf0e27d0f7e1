/**
 * Define-by-run autograd. Every op that sees an input with `requiresGrad` records a node on
 * its output: the inputs and a function from the output's gradient to the inputs' gradients.
 * `backward()` walks those nodes in reverse topological order. Gradients of leaves (tensors
 * with no node, such as parameters) accumulate into `.grad` until `zeroGrad()`.
 *
 * @example
 * const w = gf.randn([3, 2], {requiresGrad: true});
 * gf.matmul(x, w).sum().backward();
 * w.grad;                                  // d(sum)/dw
 * const y = gf.noGrad(() => model.apply(x)); // records nothing
 */
import type { Tensor } from './tensor';
import { ShapeError, ValueError, fmtShape } from './errors';

/** How one recorded op turns its output's gradient into its inputs' gradients. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Returns one gradient per input (null where an input needs none). */
  backward(gy: Tensor): (Tensor | null)[];
}

let gradEnabled = true;

/** Whether ops record gradient nodes now. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn without recording gradients (inference, optimizer updates, metrics).
 * @example const probs = gf.noGrad(() => model.apply(x));
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn with gradient recording on (inside a noGrad, e.g. for gradients of gradients). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Whether record() would attach a gradient node for these inputs (ops skip state a backward needs otherwise). */
export function willRecord(inputs: readonly Tensor[]): boolean {
  return gradEnabled && inputs.some((t) => t.requiresGrad);
}

/**
 * Attaches a gradient node to `out` when recording is on and any input requires a gradient.
 * Ops call this once, right after computing their output.
 */
export function record(op: string, inputs: readonly Tensor[], out: Tensor,
                       backward: (gy: Tensor) => (Tensor | null)[]): Tensor {
  if (!willRecord(inputs)) return out;
  out.requiresGrad = true;
  out.gradFn = { op, inputs, backward };
  return out;
}

export interface BackwardOptions {
  /** Record the backward pass itself, so the gradients can be differentiated again. */
  createGraph?: boolean;
}

/** Reverse-mode sweep from `root` with seed gradient `seed`. Called by Tensor.backward(). */
export function runBackward(root: Tensor, seed: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new ValueError('backward: the tensor does not require a gradient ' +
      '(no input had requiresGrad, or it was computed inside noGrad)');
  }
  if (seed.shape.length !== root.shape.length || seed.shape.some((d, i) => d !== root.shape[i])) {
    throw new ShapeError(`backward: gradient shape ${fmtShape(seed.shape)} differs from tensor shape ${fmtShape(root.shape)}`);
  }
  const order = topoOrder(root);
  const sweep = (): void => {
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, seed);
    const leafStorage = new Set<unknown>([seed.storage]);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const gy = grads.get(t);
      if (gy === undefined) continue;
      grads.delete(t); // free it as soon as it is used
      const node = t.gradFn;
      if (node === null) {
        // a leaf: accumulate into .grad. A gradient passed through unchanged (by add or reshape)
        // can reach two leaves with the same storage, or be the caller's seed: copy it then, so
        // that no two .grad tensors share memory.
        if (t.grad !== null) {
          t.grad = t.grad.add(opts.createGraph ? gy : gy.detach());
        } else if (opts.createGraph) {
          t.grad = gy;
        } else {
          t.grad = leafStorage.has(gy.storage) ? gy.clone() : gy.detach();
          leafStorage.add(t.grad.storage);
        }
        continue;
      }
      const gxs = node.backward(gy);
      node.inputs.forEach((x, k) => {
        const gx = gxs[k];
        if (gx === null || gx === undefined || !x.requiresGrad) return;
        const prev = grads.get(x);
        grads.set(x, prev === undefined ? gx : prev.add(gx));
      });
    }
  };
  if (opts.createGraph) enableGrad(sweep);
  else noGrad(sweep);
}

/** Tensors reachable from root through gradient nodes, each after all of its inputs. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // iterative DFS: long recurrent graphs would overflow the JS stack with recursion
  const stack: { t: Tensor; next: number }[] = [{ t: root, next: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top.t.gradFn?.inputs ?? [];
    if (top.next < inputs.length) {
      const x = inputs[top.next++];
      if (x.requiresGrad && !visited.has(x)) {
        visited.add(x);
        stack.push({ t: x, next: 0 });
      }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }
  return order;
}
