// The device seam carries whole computations: with the 'cuda' backend replaced, for this file,
// by a stand-in whose storages are handles around host arrays and whose kernels are the CPU
// ones (each handle unwrapped at the call), forward passes, gradients and optimizer steps run
// on 'cuda' tensors and must give exactly the CPU's bits. Every op therefore has to take its
// output storage from its tensors' backend and call that backend's kernels: an op that read
// `.data` of a device tensor throws DeviceError, and one that handed a CPU array to the device
// kernels fails the stand-in's check. Outputs of allocateOutput/scratch are NaN-poisoned, so a
// kernel that leaves part of its output unwritten shows too.
import * as gf from '../lib';
import type { Backend, Kernels, Storage, FloatStorage, IntStorage } from '../lib/backend';
import { cudaBackend } from '../lib/backend/cuda';
import { native } from '../lib/backend/native';
import type { DeviceStorage, DType, Tensor, TypedArray } from '../lib/tensor';

class HostHandle implements DeviceStorage {
  readonly device = 'cuda' as const;
  disposed = false;
  constructor(readonly array: TypedArray) {}
  get dtype(): DType {
    return this.array instanceof Float64Array ? 'float64' : this.array instanceof Int32Array ? 'int32' : 'float32';
  }
  get length(): number { return this.array.length; }
  dispose(): void { this.disposed = true; }
}

function handle(s: Storage): HostHandle {
  if (!(s instanceof HostHandle)) throw new Error(`stand-in backend: got ${ArrayBuffer.isView(s) ? 'a CPU array' : String(s)}, not its storage`);
  return s;
}

function makeArray(dtype: DType, size: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(size) : dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

const calls = new Map<string, number>();

// The CPU kernel, with each handle unwrapped. Host arrays are refused (an op passing one would
// hand JavaScript memory to a device), except the ones the binding documents as host-side: the
// recurrent op's Uint8Array mask, and empty arrays standing for an absent slot (sgd without
// momentum).
function onDevice(name: string, args: unknown[]): unknown[] {
  return args.map((a, i) => {
    if (a instanceof HostHandle) return a.array;
    if (ArrayBuffer.isView(a) && !(a instanceof Uint8Array) && (a as TypedArray).length > 0) {
      throw new Error(`${name}: argument ${i} is a CPU array, not device storage`);
    }
    return a;
  });
}

const standInKernels = new Proxy(native, {
  get(target, name: string) {
    const f = (target as unknown as Record<string, unknown>)[name];
    if (typeof f !== 'function') return f;
    return (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return (f as (...a: unknown[]) => unknown)(...onDevice(name, args));
    };
  },
}) as unknown as Kernels;

function poisoned(dtype: DType, size: number): HostHandle {
  const a = makeArray(dtype, size);
  a.fill(dtype === 'int32' ? -7 : NaN);
  return new HostHandle(a);
}

const standIn = {
  device: 'cuda',
  status: () => ({ available: true, reason: '' }),
  kernels: standInKernels,
  allocateOutput: (dtype: DType, size: number) => poisoned(dtype, size),
  allocate: (dtype: DType, size: number) => new HostHandle(makeArray(dtype, size)),
  allocateLasting: (dtype: DType, size: number) => new HostHandle(makeArray(dtype, size)),
  scratch: (dtype: DType, size: number) => poisoned(dtype, size),
  release: (s: Storage) => { handle(s); },
  write: (s: Storage, data: TypedArray) => { handle(s).array.set(data); },
  copy: (s: Storage) => new HostHandle(handle(s).array.slice()),
  view: (s: Storage, offset: number, length: number) => new HostHandle(handle(s).array.subarray(offset, offset + length)),
  upload: (data: TypedArray) => new HostHandle(data.slice()),
  download: (s: DeviceStorage) => handle(s).array.slice(),
  downloadAsync: (s: DeviceStorage) => Promise.resolve(handle(s).array.slice()),
};

const real = Object.getOwnPropertyDescriptors(cudaBackend);
beforeAll(() => { Object.defineProperties(cudaBackend, Object.getOwnPropertyDescriptors(standIn)); });
afterAll(() => { Object.defineProperties(cudaBackend, real); });
beforeEach(() => calls.clear());

// Keeps the stand-in's types honest against the interface it replaces.
const typed: Pick<Backend, 'device'> & { kernels: Kernels } = standIn as unknown as Backend;
void typed;
void ({} as FloatStorage | IntStorage);

function rand(shape: number[], seed: number): Tensor {
  return gf.randn(shape, { seed });
}

function oneHot(labels: number[], classes: number): Tensor {
  const t = gf.zeros([labels.length, classes]);
  labels.forEach((c, i) => { t.data[i * classes + c] = 1; });
  return t;
}

/** Runs fn on CPU tensors and on the same values on 'cuda'; the results must be bit-identical. */
function same(fn: (dev: (t: Tensor) => Tensor) => Tensor | Tensor[]): void {
  const onCpu = [fn((t) => t)].flat();
  const onDev = [fn((t) => t.to('cuda'))].flat();
  expect(onDev.length).toBe(onCpu.length);
  onDev.forEach((d, i) => {
    expect(d.device).toBe('cuda');
    expect(d.shape).toEqual(onCpu[i].shape);
    expect(d.dtype).toBe(onCpu[i].dtype);
    expect(Array.from(d.cpu().data)).toEqual(Array.from(onCpu[i].data));
  });
}

/** Each named kernel of the device ran (the list of the ones that did not must be empty). */
const used = (...names: string[]): void => { expect(names.filter((n) => !calls.has(n))).toEqual([]); };

describe('ops on a device run through its backend', () => {
  test('tensors move there and back', async () => {
    const x = rand([3, 4], 1);
    const d = x.to('cuda');
    expect(d.device).toBe('cuda');
    expect(() => d.data).toThrow(gf.DeviceError);
    expect(Array.from(d.cpu().data)).toEqual(Array.from(x.data));
    expect(Array.from(await d.dataAsync())).toEqual(Array.from(x.data));
    expect(d.clone().device).toBe('cuda');
    expect(d.reshape([4, 3]).device).toBe('cuda');
  });

  test('elementwise, broadcasting, scalars, reductions, softmax, shape ops', () => {
    same((dev) => {
      const a = dev(rand([2, 3, 5], 2));
      const b = dev(rand([3, 1], 3));
      return [gf.add(a, b), gf.mul(a, 2), a.relu(), a.sigmoid(), gf.sum(a, [0, 2]), gf.mean(a, 1, true), gf.max(a, -1),
        gf.softmax(a), gf.logSoftmax(a, 1), gf.transpose(a, [2, 0, 1]), gf.broadcastTo(b, [2, 3, 4]),
        gf.sliceRows(a, 1, 2), gf.argmax(a, 2)];
    });
    used('binary', 'unary', 'reduce', 'softmax', 'permute', 'argReduce');
  });

  test('an MLP step: linear with bias and relu, loss, backward, adam', () => {
    same((dev) => {
      const x = dev(rand([7, 5], 4));
      const w1 = dev(rand([5, 6], 5)).setRequiresGrad();
      const b1 = dev(rand([6], 6)).setRequiresGrad();
      const w2 = dev(rand([6, 3], 7)).setRequiresGrad();
      const target = dev(oneHot([0, 2, 1, 1, 0, 2, 2], 3));
      const opt = gf.optimizers.adam({ learningRate: 0.01 });
      for (let step = 0; step < 2; step++) {
        const h = gf.linear(x, w1, b1, 'relu');
        const logp = gf.logSoftmax(gf.matmul(h, w2));
        const loss = gf.neg(gf.mean(gf.sum(gf.mul(target, logp), -1)));
        w1.zeroGrad(); b1.zeroGrad(); w2.zeroGrad();
        loss.backward();
        opt.applyGradients([{ param: w1, grad: w1.grad }, { param: b1, grad: b1.grad }, { param: w2, grad: w2.grad }]);
      }
      return [w1, b1, w2, ...opt.getState([w1, b1, w2]).weights];
    });
    used('gemm', 'adamStep', 'softmaxBackward', 'unaryBackward');
  });

  test('a CNN step: conv with bias and relu, max pool, batch norm, dense, sgd with momentum', () => {
    same((dev) => {
      const x = dev(rand([2, 6, 6, 2], 8)).setRequiresGrad();
      const k = dev(rand([3, 3, 2, 4], 9)).setRequiresGrad();
      const kb = dev(rand([4], 10)).setRequiresGrad();
      const gamma = dev(gf.ones([4])).setRequiresGrad();
      const beta = dev(gf.zeros([4])).setRequiresGrad();
      const movingMean = dev(gf.zeros([4]));
      const movingVar = dev(gf.ones([4]));
      const w = dev(rand([36, 2], 11)).setRequiresGrad();
      const opt = gf.optimizers.sgd({ learningRate: 0.05, momentum: 0.9 });
      for (let step = 0; step < 2; step++) {
        const c = gf.conv2d(x, k, { bias: kb, activation: 'relu', padding: 'same' });
        const p = gf.maxPool2d(c, { poolSize: 2 });  // [2, 3, 3, 4]
        const n = gf.batchNorm(p, { gamma, beta, movingMean, movingVar, training: true });
        const y = gf.matmul(gf.reshape(n, [2, 36]), w);
        const loss = gf.mean(gf.square(y));
        for (const t of [k, kb, gamma, beta, w]) t.zeroGrad();
        loss.backward();
        opt.applyGradients([k, kb, gamma, beta, w].map((t) => ({ param: t, grad: t.grad })));
      }
      const inference = gf.batchNorm(gf.avgPool2d(gf.conv2d(x, k), { poolSize: 2 }), { movingMean, movingVar });
      return [k, kb, gamma, beta, w, x.grad!, movingMean, movingVar, inference, gf.globalAvgPool2d(x), gf.upSampling2d(x)];
    });
    used('conv2dForward', 'conv2dBackwardInput', 'conv2dBackwardFilter', 'maxPool2dForward', 'maxPool2dBackward',
      'batchNormTrain', 'batchNormBackward', 'batchNormInference', 'sgdStep', 'avgPool2dForward', 'globalPool2dForward',
      'upSampling2dForward');
  });

  test('an LSTM forward and backward, rmsprop and adagrad', () => {
    same((dev) => {
      const x = dev(rand([2, 4, 3], 12)).setRequiresGrad();
      const kernel = dev(rand([3, 8], 13)).setRequiresGrad();
      const recurrent = dev(rand([2, 8], 14)).setRequiresGrad();
      const bias = dev(rand([8], 15)).setRequiresGrad();
      const { y, hT } = gf.rnn(x, kernel, recurrent, bias, { cell: 'lstm' });
      gf.add(gf.sum(y), gf.sum(hT)).backward();
      const rms = gf.optimizers.rmsprop({ learningRate: 0.01 });
      rms.applyGradients([{ param: kernel, grad: kernel.grad }]);
      const ada = gf.optimizers.adagrad({ learningRate: 0.01 });
      ada.applyGradients([{ param: recurrent, grad: recurrent.grad }]);
      return [y, hT, x.grad!, bias.grad!, kernel, recurrent];
    });
    used('rnnForward', 'rnnBackward', 'rmspropStep', 'adagradStep');
  });

  test('mixing devices is still a DeviceError', () => {
    const a = rand([2, 2], 16);
    expect(() => gf.matmul(a, a.to('cuda'))).toThrow(/matmul\(a b\): tensors on different devices/);
    expect(() => gf.conv2d(rand([1, 3, 3, 1], 17), rand([2, 2, 1, 1], 18).to('cuda'))).toThrow(gf.DeviceError);
  });
});

describe('a model on a device', () => {
  function cnn(seed: number): gf.Sequential {
    gf.setSeed(seed);
    const m = gf.sequential([
      gf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1] }),
      gf.layers.maxPooling2d({ poolSize: 2 }),
      gf.layers.batchNormalization(),
      gf.layers.flatten(),
      gf.layers.dropout({ rate: 0.25 }),
      gf.layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: 'accuracy' });
    return m;
  }

  test('fit, evaluate and predict give the CPU model\'s bits; predict hands back CPU tensors; save reads it back', async () => {
    const x = gf.randn([20, 8, 8, 1], { seed: 21 });
    const y = gf.tensor(Array.from({ length: 20 }, (_, i) => i % 3), [20], { dtype: 'int32' });
    const onCpu = cnn(5);
    const onDev = cnn(5).to('cuda');
    expect(onDev.device).toBe('cuda');
    expect(onDev.weights.every((v) => v.value.device === 'cuda' && v.value.requiresGrad === v.trainable)).toBe(true);
    const hc = await onCpu.fit(x, y, { epochs: 2, batchSize: 8, seed: 3, verbose: 0 });
    const hd = await onDev.fit(x, y, { epochs: 2, batchSize: 8, seed: 3, verbose: 0 });
    expect(hd.history).toEqual(hc.history);
    used('conv2dForward', 'conv2dBackwardFilter', 'batchNormTrain', 'adamStep', 'gemm');
    onDev.weights.forEach((v, i) => {
      expect(v.value.device).toBe('cuda');
      expect(Array.from(v.value.cpu().data)).toEqual(Array.from(onCpu.weights[i].value.data));
    });
    expect(onDev.evaluate(x, y)).toEqual(onCpu.evaluate(x, y));
    const p = onDev.predict(x, { batchSize: 7 });
    expect(p.device).toBe('cpu');
    expect(Array.from(p.data)).toEqual(Array.from(onCpu.predict(x, { batchSize: 7 }).data));
    const pa = await onDev.predictAsync(x);
    expect(pa.device).toBe('cpu');
    expect(Array.from(pa.data)).toEqual(Array.from(p.data));
    const saved = await onDev.save(gf.io.toMemory(), { includeOptimizer: true });
    const back = await gf.loadModel(gf.io.fromMemory(saved));
    expect(back.device).toBe('cpu');
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(p.data));
  });

  test('a model moved before it is built makes its weights there', () => {
    const m = gf.sequential([gf.layers.dense({ units: 2 })]).to('cuda');
    const out = m.predict(gf.ones([3, 4]));
    expect(out.device).toBe('cpu');
    expect(m.weights.map((v) => v.value.device)).toEqual(['cuda', 'cuda']);
    m.to('cpu');
    expect(m.weights.map((v) => v.value.device)).toEqual(['cpu', 'cpu']);
    expect(Array.from(m.predict(gf.ones([3, 4])).data)).toEqual(Array.from(out.data));
  });
});
