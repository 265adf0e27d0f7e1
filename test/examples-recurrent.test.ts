// The recurrent examples as tests of what they learn, in short runs:
// - weather-forecast: a GRU forecasting tomorrow's temp_max at Seattle beats "tomorrow = today"
//   on the 365 test days of 2015 (the full run: 2.05 vs 2.24 °C; 2.04-2.07 over 5 seeds).
// - char-rnn: an LSTM over the last 8 characters of first names ends with a held-out
//   cross-entropy below the bigram (and unigram) counts of the same names after 4 epochs
//   (the full 20-epoch run ends at ~1.76 nats per character, bigram 2.30).
import { trainWeatherForecast } from '../examples/weather-forecast';
import { trainCharRnn } from '../examples/char-rnn';

describe('recurrent examples', () => {
  test('weather-forecast: the GRU beats the naive and seasonal baselines on the 2015 test days', async () => {
    const r = await trainWeatherForecast({ verbose: 0 });
    console.log(`weather-forecast: MAE ${r.testMae.toFixed(3)} °C, naive ${r.naiveMae.toFixed(3)}, seasonal ${r.seasonalMae.toFixed(3)}, ${r.epochs} epochs, ${r.seconds.toFixed(1)} s`);
    expect(r.testDays).toBe(365);
    // the baselines are fixed numbers of the data: a change here means the split moved
    expect(r.naiveMae).toBeCloseTo(2.240, 2);
    expect(r.seasonalMae).toBeLessThan(3.5);
    // at least 3% under persistence (the example gets 8%; an untrained model is far above it)
    expect(r.testMae).toBeLessThan(0.97 * r.naiveMae);
  }, 60_000);

  test('char-rnn: the held-out loss falls below the bigram baseline; samples are names', async () => {
    const r = await trainCharRnn({ epochs: 4, verbose: 0, samples: 8 });
    const last = r.valLoss[r.valLoss.length - 1];
    console.log(`char-rnn: held-out ${last.toFixed(3)} nats/char after ${r.valLoss.length} epochs; bigram ${r.bigramLoss.toFixed(3)}, unigram ${r.unigramLoss.toFixed(3)}; ` +
      `${r.seconds.toFixed(1)} s; ${r.samples.join(', ')}`);
    expect(r.valLoss).toHaveLength(4);
    expect(r.unigramLoss).toBeGreaterThan(r.bigramLoss);
    expect(last).toBeLessThan(r.bigramLoss - 0.1);
    expect(r.trainLoss[3]).toBeLessThan(r.trainLoss[0]);
    expect(r.samples).toHaveLength(8);
    for (const s of r.samples) expect(s).toMatch(/^([A-Z][a-z-]*)?$/);
    // most samples are real names' length, not one letter or a run to the step limit
    expect(r.samples.filter((s) => s.length >= 3 && s.length <= 12).length).toBeGreaterThanOrEqual(6);
  }, 60_000);
});
