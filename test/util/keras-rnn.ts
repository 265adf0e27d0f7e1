// Keras's recurrent cell equations, one step at a time in plain JavaScript: the reference the
// op tests (test/ops/rnn.test.ts) and the layer tests (test/nn/recurrent-dropout.test.ts)
// compare the native kernels with, so gate order, layouts, both GRU variants, masks and the
// recurrent dropout mask (which multiplies h_{t-1} only where it meets the recurrent kernel)
// are written down once.
const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** Keras's equations, one step at a time: y [N, T, U] (processing order), hT, cT. */
export function kerasRnnReference(cell: 'simpleRNN' | 'lstm' | 'gru', x: number[][][], W: number[][], R: number[][], b: number[] | number[][] | null,
                   opts: { resetAfter?: boolean; goBackwards?: boolean; mask?: number[][]; h0?: number[][]; recurrentMask?: number[][] } = {}): { y: number[][][]; h: number[][]; c: number[][] } {
  const N = x.length, T = x[0].length, U = R.length;
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const bin = b === null ? new Array(G * U).fill(0) : Array.isArray(b[0]) ? (b as number[][])[0] : (b as number[]);
  const brec = b !== null && Array.isArray(b[0]) ? (b as number[][])[1] : new Array(G * U).fill(0);
  const y: number[][][] = [], hOut: number[][] = [], cOut: number[][] = [];
  for (let n = 0; n < N; n++) {
    let h = opts.h0 ? [...opts.h0[n]] : new Array(U).fill(0);
    let c = new Array(U).fill(0);
    const ys: number[][] = [];
    for (let s = 0; s < T; s++) {
      const t = opts.goBackwards ? T - 1 - s : s;
      if (opts.mask && opts.mask[n][t] === 0) { ys.push([...h]); continue; }
      const xw = (j: number): number => x[n][t].reduce((a, v, k) => a + v * W[k][j], 0) + bin[j];
      const hr = (hv: number[], j: number): number => hv.reduce((a, v, k) => a + v * R[k][j], 0);
      // h_{t-1} as the recurrent kernel sees it (Keras: h_tm1 * rec_dp_mask)
      const hd = opts.recurrentMask ? h.map((v, u) => v * opts.recurrentMask![n][u]) : h;
      if (cell === 'simpleRNN') {
        h = h.map((_, u) => Math.tanh(xw(u) + hr(hd, u)));
      } else if (cell === 'lstm') {
        const g = (k: number, u: number): number => xw(k * U + u) + hr(hd, k * U + u);
        const i = h.map((_, u) => sig(g(0, u))), f = h.map((_, u) => sig(g(1, u)));
        const cc = h.map((_, u) => Math.tanh(g(2, u))), o = h.map((_, u) => sig(g(3, u)));
        c = c.map((cv, u) => f[u] * cv + i[u] * cc[u]);
        h = h.map((_, u) => o[u] * Math.tanh(c[u]));
      } else {
        const z = h.map((_, u) => sig(xw(u) + hr(hd, u) + brec[u]));
        const r = h.map((_, u) => sig(xw(U + u) + hr(hd, U + u) + brec[U + u]));
        const hh = opts.resetAfter
          ? h.map((_, u) => Math.tanh(xw(2 * U + u) + r[u] * (hr(hd, 2 * U + u) + brec[2 * U + u])))
          : h.map((_, u) => Math.tanh(xw(2 * U + u) + hr(hd.map((hv, k) => r[k] * hv), 2 * U + u)));
        h = h.map((hv, u) => z[u] * hv + (1 - z[u]) * hh[u]);  // the undropped h_{t-1}
      }
      ys.push([...h]);
    }
    y.push(ys);
    hOut.push(h);
    cOut.push(c);
  }
  return { y, h: hOut, c: cOut };
}

