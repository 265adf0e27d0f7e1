// gf.text against Keras's keras.preprocessing.text.Tokenizer and pad_sequences. The expected
// values follow Keras's algorithm step by step (written out in the comments), so a difference
// in tie order, OOV placement or numWords filtering shows here.
import * as gf from '../../lib';
import { ValueError } from '../../lib/errors';

const texts = ['The cat sat on the mat.', 'The dog sat down!', 'A cat, a DOG; a bird?'];

describe('Tokenizer', () => {
  test('wordIndex by descending count, ties in order of first appearance', () => {
    const tok = new gf.text.Tokenizer();
    tok.fitOnTexts(texts);
    // counts: the 3, cat 2, sat 2, on 1, mat 1, dog 2, down 1, a 3, bird 1
    // sorted (stable): the 3, a 3, cat 2, sat 2, dog 2, on 1, mat 1, down 1, bird 1
    expect([...tok.wordIndex.entries()]).toEqual([
      ['the', 1], ['a', 2], ['cat', 3], ['sat', 4], ['dog', 5], ['on', 6], ['mat', 7], ['down', 8], ['bird', 9]]);
    expect(tok.indexWord.get(5)).toBe('dog');
    expect(tok.documentCount).toBe(3);
    expect(tok.wordCounts.get('the')).toBe(3);
    expect(tok.wordDocs.get('the')).toBe(2);  // in two texts
    expect(tok.wordDocs.get('a')).toBe(1);
  });

  test('textsToSequences: numWords keeps ids below it; unknown words are dropped without an OOV token', () => {
    const tok = new gf.text.Tokenizer({ numWords: 5 });
    tok.fitOnTexts(texts);
    // ids 1..4 kept: the, a, cat, sat; dog (5) and beyond dropped; 'zebra' unknown
    expect(tok.textsToSequences(['the dog and a cat sat', 'zebra'])).toEqual([[1, 2, 3, 4], []]);
    expect(tok.wordIndex.size).toBe(9);  // the index keeps every word, as in Keras
  });

  test('an OOV token takes id 1 and stands for unknown and filtered words', () => {
    const tok = new gf.text.Tokenizer({ numWords: 5, oovToken: '<unk>' });
    tok.fitOnTexts(texts);
    expect(tok.wordIndex.get('<unk>')).toBe(1);
    expect(tok.wordIndex.get('the')).toBe(2);
    // kept: <unk> 1, the 2, a 3, cat 4; sat (5) and dog (6) -> 1
    expect(tok.textsToSequences(['the dog and a cat sat'])).toEqual([[2, 1, 1, 3, 4, 1]]);
    expect(tok.sequencesToTexts([[2, 1, 4, 9]])).toEqual(['the <unk> cat <unk>']);
  });

  test('lower, filters, split and charLevel as Keras applies them', () => {
    expect(gf.text.textToWordSequence('Hello, World!  Again')).toEqual(['hello', 'world', 'again']);
    expect(gf.text.textToWordSequence('a-b c', { filters: '' })).toEqual(['a-b', 'c']);
    expect(gf.text.textToWordSequence('A|B|c', { split: '|', lower: false })).toEqual(['A', 'B', 'c']);
    const chars = new gf.text.Tokenizer({ charLevel: true });
    chars.fitOnTexts(['abca', 'Ab']);
    // counts a 3, b 2, c 1 (lower-cased; filters do not apply at char level)
    expect([...chars.wordIndex.entries()]).toEqual([['a', 1], ['b', 2], ['c', 3]]);
    expect(chars.textsToSequences(['cab!'])).toEqual([[3, 1, 2]]);
  });

  test('fitting again adds counts; toJSON / fromJSON round-trips', () => {
    const tok = new gf.text.Tokenizer({ oovToken: '<unk>' });
    tok.fitOnTexts(texts.slice(0, 1));
    tok.fitOnTexts(texts.slice(1));
    const all = new gf.text.Tokenizer({ oovToken: '<unk>' });
    all.fitOnTexts(texts);
    expect([...tok.wordIndex.entries()]).toEqual([...all.wordIndex.entries()]);
    const back = gf.text.Tokenizer.fromJSON(JSON.stringify(tok));
    expect([...back.wordIndex.entries()]).toEqual([...tok.wordIndex.entries()]);
    expect(back.textsToSequences(texts)).toEqual(tok.textsToSequences(texts));
    expect(back.documentCount).toBe(3);
  });

  test('bad input is a ValueError naming what is wrong', () => {
    expect(() => new gf.text.Tokenizer({ numWords: 0 })).toThrow(ValueError);
    expect(() => new gf.text.Tokenizer({ numWords: 2.5 })).toThrow(/numWords must be a positive integer/);
    const tok = new gf.text.Tokenizer();
    expect(() => tok.fitOnTexts(['ok', 3 as unknown as string])).toThrow(/fitOnTexts: text 1 must be a string, got number/);
    expect(() => tok.textsToSequences('abc' as unknown as string[])).toThrow(ValueError);
    expect(() => gf.text.Tokenizer.fromJSON('{"className":"Other"}')).toThrow(/not a tokenizer/);
  });
});

describe('padSequences', () => {
  const seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]];

  test('defaults: pad and truncate at the front, maxLen = the longest, int32', () => {
    const t = gf.text.padSequences(seqs);
    expect(t.dtype).toBe('int32');
    expect(t.shape).toEqual([3, 5]);
    expect(t.toArray()).toEqual([[0, 0, 1, 2, 3], [0, 0, 0, 4, 5], [6, 7, 8, 9, 10]]);
  });

  test('maxLen with pre/post padding and truncating, and a fill value', () => {
    expect(gf.text.padSequences(seqs, { maxLen: 3 }).toArray()).toEqual([[1, 2, 3], [0, 4, 5], [8, 9, 10]]);
    expect(gf.text.padSequences(seqs, { maxLen: 3, padding: 'post', truncating: 'post' }).toArray())
      .toEqual([[1, 2, 3], [4, 5, 0], [6, 7, 8]]);
    expect(gf.text.padSequences([[1], []], { maxLen: 2, value: -1 }).toArray()).toEqual([[-1, 1], [-1, -1]]);
    expect(gf.text.padSequences([[0.5]], { maxLen: 2, dtype: 'float32' }).toArray()).toEqual([[0, 0.5]]);
    expect(gf.text.padSequences([], { maxLen: 4 }).shape).toEqual([0, 4]);
  });

  test('bad input is a ValueError', () => {
    expect(() => gf.text.padSequences(seqs, { maxLen: -1 })).toThrow(/maxLen must be a non-negative integer/);
    expect(() => gf.text.padSequences(seqs, { padding: 'middle' as 'pre' })).toThrow(/padding must be 'pre' or 'post'/);
    expect(() => gf.text.padSequences([[1, 2.5]])).toThrow(/sequence 0\[1\] must be an integer, got 2.5/);
    expect(() => gf.text.padSequences([3 as unknown as number[]])).toThrow(/sequence 0 must be an array/);
  });

  test('a tokenizer and padSequences feed a model input', () => {
    const tok = new gf.text.Tokenizer({ numWords: 20, oovToken: '<unk>' });
    tok.fitOnTexts(texts);
    const x = gf.text.padSequences(tok.textsToSequences(texts), { maxLen: 4 });
    expect(x.shape).toEqual([3, 4]);
    // 'the cat sat on the mat' = [2, 4, 5, 7, 2, 8] -> its last 4
    expect((x.toArray() as number[][])[0]).toEqual([5, 7, 2, 8]);
  });
});
