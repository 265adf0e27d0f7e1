/**
 * Text preprocessing as Keras has it: a word-frequency Tokenizer and padSequences.
 * @example
 * const tok = new gf.text.Tokenizer({ numWords: 10000, oovToken: '<unk>' });
 * tok.fitOnTexts(texts);
 * const x = gf.text.padSequences(tok.textsToSequences(texts), { maxLen: 200 });   // int32 [n, 200]
 */
export { Tokenizer, textToWordSequence, DEFAULT_FILTERS } from './tokenizer';
export type { TokenizerOptions, TokenizerJSON } from './tokenizer';
export { padSequences } from './pad';
export type { PadSequencesOptions } from './pad';
