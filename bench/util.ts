// Small helpers shared by the bench/ scripts: medians, the results folder, and a long-lived
// Python worker spoken to in JSON lines (so a script can alternate its own timings with the
// reference's, and machine noise hits both alike). Not a benchmark on its own.
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { spawn, spawnSync, ChildProcessWithoutNullStreams } from 'child_process';

/** The repository root (these scripts run from dist/bench). */
export const root = path.resolve(__dirname, '..', '..');

export const PYTHON = '/usr/bin/python3';

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The environment of a PyTorch reference process at its best on this machine, `threads` threads:
 * - OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are dropped: set here for older OpenBLAS builds, they
 *   pin Debian's OpenBLAS (behind PyTorch's BLAS calls) to its Haswell kernel;
 * - glibc's malloc keeps freed memory (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ large):
 *   PyTorch frees and reallocates its activations every step, and by default each large buffer
 *   goes back to the kernel and page-faults in again (measured: the MLP's step 3.6 -> 0.9 ms);
 *   gradforge keeps its buffers in a pool, so the reference keeps them too;
 * - OMP_NUM_THREADS = threads.
 */
export function torchEnv(threads: number): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  env.MALLOC_MMAP_THRESHOLD_ = String(1 << 30);
  env.MALLOC_TRIM_THRESHOLD_ = String(1 << 30);
  env.OMP_NUM_THREADS = String(threads);
  return env;
}

/** "median (min-max)" of v, each with `digits` decimals. */
export function spread(v: number[], digits = 0): string {
  if (!v.length) return '-';
  return `${median(v).toFixed(digits)} (${Math.min(...v).toFixed(digits)}-${Math.max(...v).toFixed(digits)})`;
}

/** Whether /usr/bin/python3 can import torch and numpy. */
export function torchAvailable(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Writes bench/results/<name>.json and returns its path. */
export function writeResults(name: string, data: unknown): string {
  const dir = path.join(root, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

/** A Python script under bench/ answering one JSON request per stdin line with one JSON line. */
export class PythonWorker {
  private proc: ChildProcessWithoutNullStreams;
  private waiting: ((line: string) => void)[] = [];
  private failed: string | null = null;
  private stderr = '';

  constructor(script: string, env: NodeJS.ProcessEnv = process.env) {
    this.proc = spawn(PYTHON, [path.join(root, 'bench', script)], { env });
    this.proc.on('error', (e) => this.fail(String(e)));
    this.proc.stderr.on('data', (d) => { this.stderr += String(d); });
    this.proc.on('exit', (code) => this.fail(`${script} exited with ${code}${this.stderr ? `: ${this.stderr.trim().split('\n').pop()}` : ''}`));
    readline.createInterface({ input: this.proc.stdout }).on('line', (l) => this.waiting.shift()?.(l));
  }

  private fail(why: string): void {
    if (!this.failed) this.failed = why;
    for (const w of this.waiting.splice(0)) w(JSON.stringify({ error: why }));
  }

  /** Sends one request; rejects when the worker answers {error}. */
  request<T = Record<string, unknown>>(req: object): Promise<T> {
    if (this.failed) return Promise.reject(new Error(this.failed));
    return new Promise((resolve, reject) => {
      this.waiting.push((l) => {
        const r = JSON.parse(l) as Record<string, unknown>;
        if (r.error !== undefined) reject(new Error(`python worker: ${String(r.error)}`));
        else resolve(r as T);
      });
      this.proc.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  close(): void {
    this.proc.stdin.end();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
