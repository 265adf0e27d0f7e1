/**
 * padSequences: lists of ids of different lengths to one int32 tensor [n, maxLen], as
 * Keras's pad_sequences does: shorter sequences are filled with `value` ('pre': in front,
 * the default, so an RNN reads the real tokens last; or 'post'), longer ones are cut
 * ('pre': their beginning is dropped, the default; or 'post'). maxLen defaults to the
 * longest sequence.
 *
 * @example
 * gf.text.padSequences([[1, 2], [3, 4, 5, 6]], { maxLen: 3 }).toArray();   // [[0, 1, 2], [4, 5, 6]]
 */
import { ValueError } from '../errors';
import { Tensor, DType, allocateOutput } from '../tensor';

export interface PadSequencesOptions {
  /** Length of every row (default: the longest sequence). */
  maxLen?: number | null;
  /** Where the fill goes: 'pre' (default) or 'post'. */
  padding?: 'pre' | 'post';
  /** Which end a longer sequence loses: 'pre' (default) or 'post'. */
  truncating?: 'pre' | 'post';
  /** The fill value (default 0, the id Tokenizer never gives a word). */
  value?: number;
  /** 'int32' (default) or 'float32'. */
  dtype?: Extract<DType, 'int32' | 'float32'>;
}

export function padSequences(sequences: readonly (ArrayLike<number>)[], opts: PadSequencesOptions = {}): Tensor {
  if (!Array.isArray(sequences)) throw new ValueError('padSequences: sequences must be an array of arrays of numbers');
  const padding = opts.padding ?? 'pre';
  const truncating = opts.truncating ?? 'pre';
  if (padding !== 'pre' && padding !== 'post') throw new ValueError(`padSequences: padding must be 'pre' or 'post', got '${String(padding)}'`);
  if (truncating !== 'pre' && truncating !== 'post') throw new ValueError(`padSequences: truncating must be 'pre' or 'post', got '${String(truncating)}'`);
  const dtype = opts.dtype ?? 'int32';
  if (dtype !== 'int32' && dtype !== 'float32') throw new ValueError(`padSequences: dtype must be 'int32' or 'float32', got '${String(dtype)}'`);
  const value = opts.value ?? 0;
  if (typeof value !== 'number' || (dtype === 'int32' && !Number.isInteger(value))) {
    throw new ValueError(`padSequences: value must be ${dtype === 'int32' ? 'an integer' : 'a number'}, got ${String(value)}`);
  }
  sequences.forEach((s, i) => {
    if (s === null || typeof s !== 'object' || typeof s.length !== 'number') {
      throw new ValueError(`padSequences: sequence ${i} must be an array of numbers`);
    }
  });
  const longest = sequences.reduce((m, s) => Math.max(m, s.length), 0);
  const maxLen = opts.maxLen ?? longest;
  if (!Number.isInteger(maxLen) || maxLen < 0) throw new ValueError(`padSequences: maxLen must be a non-negative integer, got ${String(maxLen)}`);

  const n = sequences.length;
  const out = allocateOutput(dtype, n * maxLen, 'padSequences', [n, maxLen]);
  out.fill(value);
  sequences.forEach((s, i) => {
    const keep = Math.min(s.length, maxLen);
    const from = truncating === 'pre' ? s.length - keep : 0;
    const to = padding === 'pre' ? maxLen - keep : 0;
    for (let k = 0; k < keep; k++) {
      const v = s[from + k];
      if (typeof v !== 'number' || (dtype === 'int32' && !Number.isInteger(v))) {
        throw new ValueError(`padSequences: sequence ${i}[${from + k}] must be ${dtype === 'int32' ? 'an integer' : 'a number'}, got ${String(v)}`);
      }
      out[i * maxLen + to + k] = v;
    }
  });
  return new Tensor(out, [n, maxLen]);
}
