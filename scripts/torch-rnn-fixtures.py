#!/usr/bin/env python3
"""Writes test/nn/fixtures/torch-rnn.json: PyTorch's nn.RNN / nn.LSTM / nn.GRU on small random
cases, with the weights and the gradients converted to Keras's layouts, for
test/nn/recurrent-torch.test.ts (gradforge's simpleRNN / lstm / gru / bidirectional against
PyTorch's formulas).

Run (PyTorch 1.13 CPU, float64; deterministic, so a rerun writes the same file):
    unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
    /usr/bin/python3 scripts/torch-rnn-fixtures.py

Inputs (x, weights, loss weights) are integers k meaning k / Q with Q = 256: exact in float32
and float64, so both sides start from the same numbers and the file stays small. Results are
PyTorch's float64 values printed with 12 significant digits.

Layout conversion (PyTorch -> Keras), per direction, U = units:
  torch weight_ih (G*U, In), weight_hh (G*U, U), gate blocks in torch's order; Keras kernel
  (In, G*U), recurrent_kernel (U, G*U), gate blocks in Keras's order, so
      kernel = concat_k(weight_ih[block(k)]).T     recurrent_kernel = concat_k(weight_hh[block(k)]).T
  with block(k) the torch block of Keras gate k:
    SimpleRNN  G=1  [0]
    LSTM       G=4  Keras i,f,c,o = torch i,f,g,o: [0, 1, 2, 3]
    GRU        G=3  Keras z,r,h   = torch r,z,n:   [1, 0, 2]   (Keras resetAfter=True is torch's GRU:
                    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = z h + (1 - z) n)
  Biases: torch has bias_ih and bias_hh, both random and nonzero here.
    SimpleRNN, LSTM: Keras's single bias = bias_ih + bias_hh (they only ever appear summed);
                     its gradient = d bias_ih (= d bias_hh, checked).
    GRU:             Keras bias (2, 3U) = [bias_ih; bias_hh], each in Keras gate order (the
                     recurrent bias of the candidate is inside the reset product, so they differ).
  recurrent activation: sigmoid everywhere (torch's); activation tanh.

Semantics mapped:
  goBackwards     torch on x flipped in time; Keras's y[:, s] is the s-th step taken, which is
                  torch's output on the flipped input as is; dx is flipped back by autograd.
  returnSequences False: the last step's output (= h_n).
  bidirectional   torch bidirectional=True; gradforge mergeMode 'concat': returnSequences True
                  is torch's output [N, T, 2U] (backward half aligned to input time);
                  False is concat(h_n[fwd], h_n[bwd]).
  masks           right-padded x (zeros after each sequence's length) through
                  pack_padded_sequence; Keras carries the state over masked steps, so its last
                  output is torch's h_n for the true length (for the backward direction too:
                  torch's reverse direction starts at each sequence's own end). With
                  returnSequences True, Keras's output at a padded step repeats the last valid
                  one (written so here) and the loss weights are zero there.

Loss: sum(out * wy) with wy random (the fixture's "wy", out = what the gradforge layer returns).
"""
import json
import os

import torch

torch.manual_seed(20240607)
torch.set_default_dtype(torch.float64)

Q = 256
N, T, IN, U = 3, 5, 4, 6
LENGTHS = [5, 3, 2]          # right padding: lengths differ, one full, unsorted is fine too
GATES = {'simpleRNN': 1, 'lstm': 4, 'gru': 3}
BLOCKS = {'simpleRNN': [0], 'lstm': [0, 1, 2, 3], 'gru': [1, 0, 2]}


def qrand(*shape, scale):
    """Random integers k, |k / Q| <= scale (returns the integers)."""
    return torch.round((torch.rand(*shape) * 2 - 1) * scale * Q)


def to_keras(w, cell):
    """torch (G*U, D) -> Keras (D, G*U), gates reordered."""
    blocks = [w[b * U:(b + 1) * U] for b in BLOCKS[cell]]
    return torch.cat(blocks, 0).t()


def bias_to_keras(b, cell):
    return torch.cat([b[k * U:(k + 1) * U] for k in BLOCKS[cell]], 0)


def ints(t):
    return [int(v) for v in t.flatten().tolist()]


def floats(t):
    return [float('%.12g' % v) for v in t.detach().flatten().tolist()]


def make_module(cell, bidir):
    cls = {'simpleRNN': torch.nn.RNN, 'lstm': torch.nn.LSTM, 'gru': torch.nn.GRU}[cell]
    kw = {'nonlinearity': 'tanh'} if cell == 'simpleRNN' else {}
    return cls(IN, U, batch_first=True, bidirectional=bidir, **kw)


def case(name, cell, return_sequences=False, go_backwards=False, bidir=False, masked=False):
    G = GATES[cell]
    mod = make_module(cell, bidir)
    suffixes = ['', '_reverse'] if bidir else ['']
    qweights = {}
    with torch.no_grad():
        for s in suffixes:
            for p, shape, scale in [('weight_ih_l0', (G * U, IN), 0.6), ('weight_hh_l0', (G * U, U), 0.5),
                                    ('bias_ih_l0', (G * U,), 0.4), ('bias_hh_l0', (G * U,), 0.4)]:
                k = qrand(*shape, scale=scale)
                qweights[p + s] = k
                getattr(mod, p + s).copy_(k / Q)

    xq = qrand(N, T, IN, scale=1.0)
    lengths = LENGTHS if masked else [T] * N
    for n, L in enumerate(lengths):
        xq[n, L:] = 0
        assert all(bool((xq[n, t] != 0).any()) for t in range(L)), 'a valid step is all zeros (masking would drop it)'
    x = (xq / Q).clone().requires_grad_(True)
    xin = x.flip(1) if go_backwards else x

    if masked:
        packed = torch.nn.utils.rnn.pack_padded_sequence(xin, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
        yp, st = mod(packed)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(yp, batch_first=True, total_length=T)
    else:
        y, st = mod(xin)
    h_n, c_n = (st if cell == 'lstm' else (st, None))

    D = 2 if bidir else 1
    if return_sequences:
        out = y
        if masked:   # Keras: a padded step repeats the last valid output
            out = y.clone()
            for n, L in enumerate(lengths):
                out[n, L:] = y[n, L - 1]
    else:
        out = torch.cat([h_n[d] for d in range(D)], -1) if bidir else h_n[0]
        if not masked and not bidir:
            assert torch.allclose(out, y[:, -1]), 'h_n is the last output'
    wyq = qrand(*out.shape, scale=1.0)
    if masked and return_sequences:
        for n, L in enumerate(lengths):
            wyq[n, L:] = 0
    loss = (out * (wyq / Q)).sum()
    loss.backward()

    weights, grads = [], []
    for s in suffixes:
        W, R, bi, bh = (getattr(mod, p + s) for p in ('weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'))
        qW, qR, qbi, qbh = (qweights[p + s] for p in ('weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'))
        weights += [ints(to_keras(qW, cell)), ints(to_keras(qR, cell))]
        grads += [floats(to_keras(W.grad, cell)), floats(to_keras(R.grad, cell))]
        if cell == 'gru':
            weights.append(ints(torch.stack([bias_to_keras(qbi, cell), bias_to_keras(qbh, cell)])))
            grads.append(floats(torch.stack([bias_to_keras(bi.grad, cell), bias_to_keras(bh.grad, cell)])))
        else:
            assert torch.allclose(bi.grad, bh.grad, rtol=0, atol=1e-13)
            weights.append(ints(bias_to_keras(qbi + qbh, cell)))
            grads.append(floats(bias_to_keras(bi.grad, cell)))

    # what gf.rnn returns per direction, for the op-level check: hT (and cT) per direction
    rec = {
        'name': name, 'cell': cell, 'returnSequences': return_sequences, 'goBackwards': go_backwards,
        'bidirectional': bidir, 'lengths': lengths if masked else None,
        'x': ints(xq), 'weights': weights, 'wy': ints(wyq),
        'outShape': list(out.shape), 'out': floats(out),
        'hT': [floats(h_n[d]) for d in range(D)],
        'cT': [floats(c_n[d]) for d in range(D)] if c_n is not None else None,
        'dx': floats(x.grad), 'dWeights': grads,
    }
    return rec


CASES = [
    case('simpleRNN returnSequences', 'simpleRNN', return_sequences=True),
    case('simpleRNN last, goBackwards', 'simpleRNN', go_backwards=True),
    case('lstm returnSequences', 'lstm', return_sequences=True),
    case('lstm last', 'lstm'),
    case('lstm returnSequences, goBackwards', 'lstm', return_sequences=True, go_backwards=True),
    case('gru returnSequences', 'gru', return_sequences=True),
    case('gru last', 'gru'),
    case('gru last, goBackwards', 'gru', go_backwards=True),
    case('bidirectional lstm returnSequences', 'lstm', return_sequences=True, bidir=True),
    case('bidirectional lstm last', 'lstm', bidir=True),
    case('bidirectional gru returnSequences', 'gru', return_sequences=True, bidir=True),
    case('masked simpleRNN last', 'simpleRNN', masked=True),
    case('masked lstm last', 'lstm', masked=True),
    case('masked gru last', 'gru', masked=True),
    case('masked gru returnSequences', 'gru', return_sequences=True, masked=True),
    case('masked bidirectional lstm last', 'lstm', bidir=True, masked=True),
]

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'nn', 'fixtures', 'torch-rnn.json')
os.makedirs(os.path.dirname(out_path), exist_ok=True)
doc = {
    'about': 'written by scripts/torch-rnn-fixtures.py (PyTorch %s, float64); see its docstring' % torch.__version__.split('a')[0],
    'Q': Q, 'N': N, 'T': T, 'In': IN, 'units': U, 'cases': CASES,
}
with open(out_path, 'w') as f:
    json.dump(doc, f, separators=(',', ':'))
    f.write('\n')
print('wrote %s (%d bytes, %d cases)' % (os.path.relpath(out_path), os.path.getsize(out_path), len(CASES)))
