/**
 * The per-epoch progress display of fit(), as Keras prints it:
 *   Epoch 3/10
 *   45/57 [=======================>......] - ETA: 1s - loss: 0.1432 - acc: 0.9588
 * redrawn in place on a terminal; on a pipe or file (CI logs) only one line per epoch.
 */
export interface ProgressOptions {
  epochs: number;
  steps: number;
  /** 0 silent, 1 progress bar on a TTY (one line per epoch otherwise), 2 one line per epoch. */
  verbose: number;
  /** Where to write (default process.stdout). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

const BAR_WIDTH = 30;

export function formatLogs(logs: Record<string, number>): string {
  return Object.entries(logs).map(([k, v]) => ` - ${k}: ${formatNumber(v)}`).join('');
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4);
}

function formatTime(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

export class ProgressBar {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly live: boolean;
  private epochStart = 0;
  private lastDraw = 0;
  private epoch = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stdout;
    this.live = opts.verbose === 1 && this.stream.isTTY === true;
  }

  epochBegin(epoch: number): void {
    this.epoch = epoch;
    this.epochStart = Date.now();
    this.lastDraw = 0;
    if (this.live) this.stream.write(`Epoch ${epoch + 1}/${this.opts.epochs}\n`);
  }

  /** After a step (1-based), with running means of the loss and metrics. */
  batchEnd(step: number, logs: Record<string, number>): void {
    if (!this.live) return;
    const now = Date.now();
    // redraw at most ~20 times a second: drawing costs more than a small step
    if (step < this.opts.steps && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    const elapsed = (now - this.epochStart) / 1000;
    const eta = step > 0 ? (elapsed / step) * (this.opts.steps - step) : 0;
    const line = `${this.counter(step)} ${this.bar(step)} - ETA: ${formatTime(eta)}${formatLogs(logs)}`;
    this.stream.write(`\r${line}\x1b[K`);
  }

  epochEnd(logs: Record<string, number>): void {
    if (this.opts.verbose === 0) return;
    const elapsed = (Date.now() - this.epochStart) / 1000;
    const perStep = this.opts.steps > 0 ? (elapsed * 1000) / this.opts.steps : 0;
    const timing = `${formatTime(elapsed)} ${perStep.toFixed(0)}ms/step`;
    if (this.live) {
      this.stream.write(`\r${this.counter(this.opts.steps)} ${this.bar(this.opts.steps)} - ${timing}${formatLogs(logs)}\x1b[K\n`);
    } else {
      this.stream.write(`Epoch ${this.epoch + 1}/${this.opts.epochs} - ${timing}${formatLogs(logs)}\n`);
    }
  }

  private counter(step: number): string {
    const w = String(this.opts.steps).length;
    return `${String(step).padStart(w)}/${this.opts.steps}`;
  }

  private bar(step: number): string {
    const done = this.opts.steps > 0 ? Math.floor((BAR_WIDTH * step) / this.opts.steps) : BAR_WIDTH;
    if (done >= BAR_WIDTH) return `[${'='.repeat(BAR_WIDTH)}]`;
    return `[${'='.repeat(Math.max(0, done - 1))}>${'.'.repeat(BAR_WIDTH - Math.max(done, 1))}]`;
  }
}
