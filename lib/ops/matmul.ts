/**
 * Matrix products on the native GEMM: 2-D, batched (equal leading dimensions), and N-D by 2-D
 * (as Dense applies its kernel to every position of a sequence). Gradients are GEMMs too.
 *
 * @example
 * gf.matmul(x, w);                  // [32, 784] x [784, 128] -> [32, 128]
 * gf.matmul(q, k, false, true);     // q k^T, batched over leading dimensions
 */
import { backendOf, FloatStorage } from '../backend';
import { record } from '../autograd';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';
import { Tensor, FloatDType, shapeSize } from '../tensor';
import { requireFloatStorage, reluGradFromOutput } from './elementwise';
import { sum } from './reduce';
import { reshape } from './shape';

function matmulOp(a: Tensor, b: Tensor, transA: boolean, transB: boolean): string {
  const t = (f: boolean): string => (f ? 'ᵀ' : '');
  return `matmul(a${t(transA)} b${t(transB)})`;
}

/** C = op(A) op(B), batched over leading dimensions. */
export function matmul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  const op = matmulOp(a, b, transposeA, transposeB);
  const ad = requireFloatStorage('matmul', a);
  const bd = requireFloatStorage('matmul', b);
  if (a.dtype !== b.dtype) throw new DTypeError(`matmul: dtypes differ: ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: both operands need rank >= 2, got ${fmtShape(a.shape)} x ${fmtShape(b.shape)}`);
  }
  // N-D x 2-D: fold the leading dimensions of a into rows (one GEMM, and the reshape carries
  // the gradient)
  if (a.rank > 2 && b.rank === 2 && !transposeA) {
    const lead = a.shape.slice(0, -1);
    const y2 = matmul(reshape(a, [shapeSize(lead), a.shape[a.rank - 1]]), b, false, transposeB);
    return reshape(y2, [...lead, y2.shape[1]]);
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (batchA.length !== batchB.length || batchA.some((d, i) => d !== batchB[i])) {
    throw new ShapeError(`matmul: batch dimensions differ: ${fmtShape(a.shape)} x ${fmtShape(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transposeA ? ac : ar;
  const K = transposeA ? ar : ac;
  const Kb = transposeB ? bc : br;
  const N = transposeB ? br : bc;
  if (K !== Kb) {
    throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)}${transposeA ? 'ᵀ' : ''} x ${fmtShape(b.shape)}${transposeB ? 'ᵀ' : ''} (${K} vs ${Kb})`);
  }
  const batch = shapeSize(batchA);
  const be = backendOf(op, [a, b]);
  const out = be.allocateOutput(a.dtype as FloatDType, batch * M * N, 'matmul', [...batchA, M, N]);
  if (batch === 1) {
    be.kernels.gemm(transposeA, transposeB, M, N, K, 1, ad, ac, bd, bc, 0, out, N);
  } else {
    for (let i = 0; i < batch; i++) {
      be.kernels.gemm(transposeA, transposeB, M, N, K, 1,
        be.view(ad, i * ar * ac, ar * ac), ac,
        be.view(bd, i * br * bc, br * bc), bc,
        0, be.view(out, i * M * N, M * N), N);
    }
  }
  const y = new Tensor(out, [...batchA, M, N]);
  return record(op, [a, b], y, (gy) => {
    // C = op(A) op(B): dop(A) = gy op(B)ᵀ, dop(B) = op(A)ᵀ gy, transposed back where stored so
    const ga = !a.requiresGrad ? null
      : transposeA ? matmul(b, gy, transposeB, true) : matmul(gy, b, false, !transposeB);
    const gb = !b.requiresGrad ? null
      : transposeB ? matmul(gy, a, true, transposeA) : matmul(a, gy, !transposeA, false);
    return [ga, gb];
  });
}

/** The activations a GEMM applies as it stores its product (see {@link linear}). */
export type FusedActivation = 'linear' | 'relu';

/**
 * y = activation(x w + bias), x of shape [..., K], w [K, N], bias [N]: a Dense layer's forward
 * pass as one GEMM whose bias and relu are applied while each tile of the product is still in
 * cache (no separate passes over y, no intermediate tensors). Gradients as for the unfused ops:
 * relu's from the output's sign, dx = g wᵀ, dw = xᵀ g, dbias = the column sums of g.
 *
 * @example
 * gf.linear(x, w, b, 'relu');   // the same values as gf.relu(gf.add(gf.matmul(x, w), b))
 */
export function linear(x: Tensor, w: Tensor, bias: Tensor | null = null,
  activation: FusedActivation = 'linear'): Tensor {
  const xd = requireFloatStorage('linear', x);
  const wd = requireFloatStorage('linear', w);
  if (activation !== 'linear' && activation !== 'relu') {
    throw new ValueError(`linear: activation must be 'linear' or 'relu', got '${String(activation)}'`);
  }
  if (x.dtype !== w.dtype || (bias !== null && bias.dtype !== x.dtype)) {
    throw new DTypeError(`linear: dtypes differ: x ${x.dtype}, w ${w.dtype}${bias === null ? '' : `, bias ${bias.dtype}`}`);
  }
  if (x.rank < 2 || w.rank !== 2 || x.shape[x.rank - 1] !== w.shape[0]) {
    throw new ShapeError(`linear: expected x [..., K] (rank >= 2) and w [K, N], got x ${fmtShape(x.shape)} and w ${fmtShape(w.shape)}`);
  }
  const [K, N] = w.shape;
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== N)) {
    throw new ShapeError(`linear: bias must have shape [${N}] (one per output column of w ${fmtShape(w.shape)}), got ${fmtShape(bias.shape)}`);
  }
  if (x.rank > 2) {  // fold the leading dimensions into rows; the reshapes carry the gradient
    const lead = x.shape.slice(0, -1);
    const y2 = linear(reshape(x, [shapeSize(lead), K]), w, bias, activation);
    return reshape(y2, [...lead, N]);
  }
  const M = x.shape[0];
  const be = backendOf('linear', [x, w, bias]);
  const out = be.allocateOutput(x.dtype as FloatDType, M * N, 'linear', [M, N]);
  be.kernels.gemm(false, false, M, N, K, 1, xd, K, wd, N, 0, out, N,
    bias === null ? null : bias.storage as FloatStorage, activation);
  const y = new Tensor(out, [M, N]);
  const inputs = bias === null ? [x, w] : [x, w, bias];
  return record(`linear(${activation})`, inputs, y, (gy) => {
    const g = activation === 'relu' ? reluGradFromOutput(gy, y) : gy;
    const gx = x.requiresGrad ? matmul(g, w, false, true) : null;
    const gw = w.requiresGrad ? matmul(x, g, true, false) : null;
    if (bias === null) return [gx, gw];
    return [gx, gw, bias.requiresGrad ? sum(g, 0) : null];
  });
}
