/**
 * Keras's text Tokenizer: words to integer ids by frequency, as `keras.preprocessing.text`
 * does it, so a vocabulary built here matches one built in Python on the same texts.
 *
 * - Words are split as `text_to_word_sequence` splits them: lower-cased (unless `lower` is
 *   false), every character of `filters` replaced by `split`, then split on `split`, empty
 *   pieces dropped. With `charLevel` every character is a token.
 * - `wordIndex` numbers words from 1 by descending count; ties keep the order of first
 *   appearance (Python's sort is stable). 0 is never a word: it is the padding id. An
 *   `oovToken` takes id 1 and everything else moves up by one.
 * - `textsToSequences` keeps words whose id is below `numWords` (when set); other words become
 *   the OOV id when there is an `oovToken`, and are dropped otherwise. As in Keras, `wordIndex`
 *   always holds every word seen; `numWords` only filters at conversion time.
 *
 * @example
 * const tok = new gf.text.Tokenizer({ numWords: 10000, oovToken: '<unk>' });
 * tok.fitOnTexts(['The cat sat.', 'The dog sat down!']);
 * tok.textsToSequences(['the cat ran']);   // [[2, 4, 1]]: 'ran' is unknown
 */
import { ValueError } from '../errors';

/** Keras's default filters: punctuation, tab and newline. */
export const DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

export interface TokenizerOptions {
  /** Keep only the numWords - 1 most frequent words when converting (ids 1 .. numWords - 1). */
  numWords?: number | null;
  /** Characters removed from the texts (replaced by `split`). */
  filters?: string;
  /** Lower-case the texts first (default true). */
  lower?: boolean;
  /** The separator between words (default ' '). */
  split?: string;
  /** Every character is a token (default false). */
  charLevel?: boolean;
  /** A token for words outside the vocabulary; it gets id 1. */
  oovToken?: string | null;
}

/** What `toJSON` writes and `Tokenizer.fromJSON` reads. */
export interface TokenizerJSON {
  className: 'Tokenizer';
  config: Required<TokenizerOptions> & { documentCount: number };
  wordCounts: [string, number][];
  wordDocs: [string, number][];
}

/** Splits one text into words as Keras's text_to_word_sequence does. */
export function textToWordSequence(text: string, opts: { filters?: string; lower?: boolean; split?: string } = {}): string[] {
  const filters = opts.filters ?? DEFAULT_FILTERS;
  const split = opts.split ?? ' ';
  let t = opts.lower ?? true ? text.toLowerCase() : text;
  if (filters.length > 0) t = t.replace(filterRegex(filters), () => split);
  return t.split(split).filter((w) => w.length > 0);
}

const filterRegexes = new Map<string, RegExp>();

/** A regex matching any one character of `filters` (cached: tokenizing 50,000 reviews calls this per review). */
function filterRegex(filters: string): RegExp {
  let re = filterRegexes.get(filters);
  if (re === undefined) {
    // 'u': a filter character outside the BMP is one character, as Python sees it
    const chars = Array.from(filters).map((c) => (/[\\\]\[^-]/.test(c) ? `\\${c}` : c)).join('');
    re = new RegExp(`[${chars}]`, 'gu');
    filterRegexes.set(filters, re);
  }
  return re;
}

function checkText(op: string, t: unknown, i: number): string {
  if (typeof t !== 'string') throw new ValueError(`${op}: text ${i} must be a string, got ${t === null ? 'null' : typeof t}`);
  return t;
}

export class Tokenizer {
  readonly numWords: number | null;
  readonly filters: string;
  readonly lower: boolean;
  readonly split: string;
  readonly charLevel: boolean;
  readonly oovToken: string | null;
  /** How many texts fitOnTexts has seen. */
  documentCount = 0;
  /** Occurrences of each word, in order of first appearance. */
  readonly wordCounts = new Map<string, number>();
  /** How many texts each word appears in. */
  readonly wordDocs = new Map<string, number>();
  /** Word to id (from 1), every word seen (see the top of this file). */
  wordIndex = new Map<string, number>();
  /** Id to word. */
  indexWord = new Map<number, string>();

  constructor(opts: TokenizerOptions = {}) {
    const n = opts.numWords ?? null;
    if (n !== null && (!Number.isInteger(n) || n < 1)) {
      throw new ValueError(`Tokenizer: numWords must be a positive integer or null, got ${String(n)}`);
    }
    const split = opts.split ?? ' ';
    if (typeof split !== 'string' || split.length === 0) throw new ValueError('Tokenizer: split must be a non-empty string');
    this.numWords = n;
    this.filters = opts.filters ?? DEFAULT_FILTERS;
    this.lower = opts.lower ?? true;
    this.split = split;
    this.charLevel = opts.charLevel ?? false;
    this.oovToken = opts.oovToken ?? null;
  }

  private tokens(text: string): string[] {
    if (this.charLevel) return Array.from(this.lower ? text.toLowerCase() : text);
    return textToWordSequence(text, { filters: this.filters, lower: this.lower, split: this.split });
  }

  /** Counts the words of `texts` and rebuilds wordIndex (it may be called again with more). */
  fitOnTexts(texts: readonly string[]): void {
    if (!Array.isArray(texts)) throw new ValueError('fitOnTexts: texts must be an array of strings');
    texts.forEach((raw, i) => {
      const words = this.tokens(checkText('fitOnTexts', raw, i));
      this.documentCount++;
      for (const w of words) this.wordCounts.set(w, (this.wordCounts.get(w) ?? 0) + 1);
      for (const w of new Set(words)) this.wordDocs.set(w, (this.wordDocs.get(w) ?? 0) + 1);
    });
    this.rebuildIndex();
  }

  private rebuildIndex(): void {
    // Array.prototype.sort is stable: ties keep the order of first appearance, as in Keras.
    const sorted = [...this.wordCounts.entries()].sort((a, b) => b[1] - a[1]).map(([w]) => w);
    const vocab = this.oovToken === null ? sorted : [this.oovToken, ...sorted.filter((w) => w !== this.oovToken)];
    this.wordIndex = new Map(vocab.map((w, i) => [w, i + 1]));
    this.indexWord = new Map(vocab.map((w, i) => [i + 1, w]));
  }

  /** Each text as a list of word ids (see the top of this file for numWords and oovToken). */
  textsToSequences(texts: readonly string[]): number[][] {
    if (!Array.isArray(texts)) throw new ValueError('textsToSequences: texts must be an array of strings');
    const oov = this.oovToken === null ? undefined : this.wordIndex.get(this.oovToken);
    return texts.map((raw, k) => {
      const seq: number[] = [];
      for (const w of this.tokens(checkText('textsToSequences', raw, k))) {
        const i = this.wordIndex.get(w);
        if (i !== undefined && (this.numWords === null || i < this.numWords)) seq.push(i);
        else if (oov !== undefined) seq.push(oov);
      }
      return seq;
    });
  }

  /** Id sequences back to space-joined words (ids outside the kept vocabulary as the OOV token, or dropped). */
  sequencesToTexts(sequences: readonly (readonly number[])[]): string[] {
    const oov = this.oovToken;
    return sequences.map((seq) => {
      const words: string[] = [];
      for (const i of seq) {
        const w = this.indexWord.get(i);
        if (w !== undefined && (this.numWords === null || i < this.numWords)) words.push(w);
        else if (oov !== null) words.push(oov);
      }
      return words.join(' ');
    });
  }

  /** The tokenizer's state, for JSON.stringify and Tokenizer.fromJSON. */
  toJSON(): TokenizerJSON {
    return {
      className: 'Tokenizer',
      config: {
        numWords: this.numWords, filters: this.filters, lower: this.lower, split: this.split,
        charLevel: this.charLevel, oovToken: this.oovToken, documentCount: this.documentCount,
      },
      wordCounts: [...this.wordCounts.entries()],
      wordDocs: [...this.wordDocs.entries()],
    };
  }

  /** A tokenizer from toJSON's output (or its JSON text). */
  static fromJSON(json: TokenizerJSON | string): Tokenizer {
    const j = (typeof json === 'string' ? JSON.parse(json) : json) as TokenizerJSON;
    if (j === null || typeof j !== 'object' || j.className !== 'Tokenizer' || !Array.isArray(j.wordCounts) || !Array.isArray(j.wordDocs)) {
      throw new ValueError('Tokenizer.fromJSON: not a tokenizer saved by toJSON');
    }
    const t = new Tokenizer(j.config);
    t.documentCount = j.config.documentCount ?? 0;
    for (const [w, n] of j.wordCounts) t.wordCounts.set(w, n);
    for (const [w, n] of j.wordDocs) t.wordDocs.set(w, n);
    t.rebuildIndex();
    return t;
  }
}
