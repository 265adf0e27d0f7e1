// The real 'cuda' backend (lib/backend/cuda.ts over the addon's device storage and the CUDA
// dispatch of its exports), end to end: tensors move to the device and back, ops, gradients,
// optimizer steps and whole Sequential models compute there and agree with the CPU, memory
// is freed by dispose, tidy and the training scopes, and the errors are DeviceErrors.
// It runs where the loaded addon has a usable device: on a GPU machine with the CUDA build, or
// here with the emulated addon (npm run test:cuda sets GRADFORGE_ADDON to
// build-cuda/emulated/gradforge.node, whose kernels run over the host emulation). With the
// CPU-only addon of npm test it is skipped. The CUDA kernels sum in other orders than the
// CPU's, so results are compared within float32 tolerances, not bit for bit.
import * as gf from '../lib';
import { cudaBackend } from '../lib/backend/cuda';
import type { Tensor } from '../lib/tensor';

const onDevice = gf.cuda.isAvailable();
const d = onDevice ? describe : describe.skip;

function close(actual: Tensor, expected: Tensor, tol = 2e-5): void {
  expect(actual.device).toBe('cpu');
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.data, e = expected.data;
  for (let i = 0; i < e.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= tol * (1 + Math.abs(e[i])))) {
      throw new Error(`element ${i} of ${actual.shape}: got ${a[i]}, expected ${e[i]} (tolerance ${tol})`);
    }
  }
}

/** Runs f once on CPU tensors and once on 'cuda' ones; every result must agree. */
function agree(f: (dev: (t: Tensor) => Tensor) => Tensor[], tol = 2e-5): void {
  const cpu = f((t) => t);
  const cuda = f((t) => t.to('cuda'));
  expect(cuda.length).toBe(cpu.length);
  cuda.forEach((t, i) => {
    expect(t.device).toBe('cuda');
    close(t.cpu(), cpu[i], tol);
  });
}

const rand = (shape: number[], seed: number): Tensor => gf.randn(shape, { seed });

function mlp(seed: number): gf.Sequential {
  gf.setSeed(seed);
  const m = gf.sequential([
    gf.layers.dense({ units: 16, activation: 'relu', inputShape: [12] }),
    gf.layers.dense({ units: 5, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

d('the cuda backend (device memory, the CUDA kernels)', () => {
  test('status, moving tensors there and back, reading them', async () => {
    expect(gf.backendInfo().cuda.compiled).toBe(true);
    expect(gf.cuda.status()).toEqual({ available: true, reason: '' });
    const x = rand([3, 5], 1);
    const g = x.to('cuda');
    expect(g.device).toBe('cuda');
    expect(g.storage).not.toBe(x.data);
    expect(() => g.data).toThrow(/\.cpu\(\)/);
    expect(Array.from(g.cpu().data)).toEqual(Array.from(x.data));
    expect(Array.from(await g.dataAsync())).toEqual(Array.from(x.data));
    expect(Array.from(g.dataSync())).toEqual(Array.from(x.data));
    expect(g.toArray()).toEqual(x.toArray());
    const i = gf.tensor([4, -1, 7], [3], { dtype: 'int32' }).to('cuda');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.cpu().data)).toEqual([4, -1, 7]);
    expect(g.clone().device).toBe('cuda');
    expect(Array.from(g.clone().cpu().data)).toEqual(Array.from(x.data));
    const r = g.reshape([5, 3]);
    expect(r.device).toBe('cuda');
    expect(Array.from(r.cpu().data)).toEqual(Array.from(x.data));
    expect(() => gf.zeros([2], { dtype: 'float64' }).to('cuda')).toThrow(/float64/);
    expect(() => gf.zeros([2], { dtype: 'float64' }).to('cuda')).toThrow(gf.DeviceError);
  });

  test('elementwise ops, broadcasting, scalars, reductions, softmax', () => {
    agree((dev) => {
      const a = dev(rand([2, 3, 5], 2));
      const b = dev(rand([3, 1], 3));
      return [
        gf.add(a, b), gf.sub(b, a), gf.mul(a, 2.5), gf.div(a, gf.add(gf.abs(b), 1)),
        gf.relu(a), gf.sigmoid(a), gf.tanh(a), gf.exp(a), gf.maximum(a, b),
        gf.sum(a, 1), gf.mean(a, -1), gf.max(a, 0), gf.sum(a),
        gf.softmax(a), gf.logSoftmax(a, 1),
      ];
    });
    const a = rand([4, 7], 4);
    expect(Array.from(gf.argmax(a.to('cuda'), 1).cpu().data)).toEqual(Array.from(gf.argmax(a, 1).data));
  });

  test('matmul and linear with bias and relu, and their gradients', () => {
    agree((dev) => {
      const x = dev(rand([7, 5], 5)).setRequiresGrad();
      const w = dev(rand([5, 6], 6)).setRequiresGrad();
      const bias = dev(rand([6], 7)).setRequiresGrad();
      const y = gf.linear(x, w, bias, 'relu');
      const loss = gf.sum(gf.mul(y, gf.matmul(x, w)));
      loss.backward();
      return [y, loss, x.grad!, w.grad!, bias.grad!];
    }, 1e-4);
  });

  test('an MLP step with softmax cross-entropy, backward and each optimizer', () => {
    for (const makeOpt of [
      () => gf.optimizers.adam({ learningRate: 0.01 }),
      () => gf.optimizers.sgd({ learningRate: 0.1 }),
      () => gf.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true }),
      () => gf.optimizers.rmsprop({ learningRate: 0.01 }),
      () => gf.optimizers.adagrad({ learningRate: 0.1 }),
    ]) {
      agree((dev) => {
        const x = dev(rand([6, 4], 8));
        const w = dev(rand([4, 3], 9)).setRequiresGrad();
        const target = dev(gf.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]));
        const opt = makeOpt();
        for (let step = 0; step < 3; step++) {
          const loss = gf.neg(gf.mean(gf.sum(gf.mul(target, gf.logSoftmax(gf.matmul(x, w))), -1)));
          w.zeroGrad();
          loss.backward();
          opt.applyGradients([{ param: w, grad: w.grad }]);
        }
        return [w];
      }, 1e-4);
    }
  });

  test('fit, evaluate and predict of a Sequential on cuda follow the CPU model; save/load reads it back', async () => {
    const x = gf.randn([40, 12], { seed: 11 });
    const y = gf.tensor(Array.from({ length: 40 }, (_, i) => (i * 7) % 5), [40], { dtype: 'int32' });
    const onCpu = mlp(3);
    const onDev = mlp(3).to('cuda');
    expect(onDev.weights.every((v) => v.value.device === 'cuda')).toBe(true);
    const hc = await onCpu.fit(x, y, { epochs: 3, batchSize: 16, seed: 2, verbose: 0 });
    const hd = await onDev.fit(x, y, { epochs: 3, batchSize: 16, seed: 2, verbose: 0 });
    const lc = hc.history.loss as number[], ld = hd.history.loss as number[];
    expect(ld.length).toBe(3);
    ld.forEach((l, i) => expect(Math.abs(l - lc[i])).toBeLessThan(1e-4 * (1 + Math.abs(lc[i]))));
    expect(ld[2]).toBeLessThan(ld[0]);  // it trains
    onDev.weights.forEach((v, i) => {
      expect(v.value.device).toBe('cuda');
      close(v.value.cpu(), onCpu.weights[i].value, 1e-4);
    });
    const p = onDev.predict(x, { batchSize: 7 });
    expect(p.device).toBe('cpu');
    close(p, onCpu.predict(x, { batchSize: 7 }), 1e-4);
    const pa = await onDev.predictAsync(x);
    expect(pa.device).toBe('cpu');
    close(pa, p, 1e-6);
    const [le] = onDev.evaluate(x, y) as number[];
    expect(Math.abs(le - (onCpu.evaluate(x, y) as number[])[0])).toBeLessThan(1e-4);
    const saved = await onDev.save(gf.io.toMemory(), { includeOptimizer: true });
    const back = await gf.loadModel(gf.io.fromMemory(saved));
    expect(back.device).toBe('cpu');
    close(back.predict(x), p, 1e-6);
  });

  test('slice, pad, concat, stack and gather compute on the device, with their gradients', () => {
    agree((dev) => {
      const x = dev(rand([4, 5, 3], 11)).setRequiresGrad(), z = dev(rand([4, 2, 3], 12)).setRequiresGrad();
      const parts = [
        x.slice([1, 2, 0], [2, -1, 2]),
        gf.pad(x, [[0, 1], [2, 0], [1, 1]]),
        gf.pad(x, [[1, 0], [0, 0], [0, 2]], -1.5),
        gf.concat([x, z], 1),
        gf.stack([x, x], 0),
        x.gather([3, 0, 3, 1]),
        x.gather(dev(gf.tensor([2, 2, 0], [3], { dtype: 'int32' }))),
      ];
      const w = parts.map((_, i) => dev(gf.randn(parts[i].shape, { seed: 40 + i })));
      const loss = parts.map((p, i) => p.mul(w[i]).sum()).reduce((a, b) => a.add(b));
      loss.backward();
      return [...parts, x.grad!, z.grad!];
    });
    // an index out of range is refused before anything reaches the device
    expect(() => rand([3, 2], 1).to('cuda').gather([0, 3])).toThrow(/index 3 \(position 1\) is out of range for 3 rows/);
  });

  test('gradient clipping (clipvalue, clipnorm, globalClipnorm) steps on the device as on the CPU', () => {
    for (const args of [{ clipvalue: 0.05 }, { clipnorm: 0.1 }, { globalClipnorm: 0.2 }, { clipnorm: 1e3 }]) {
      agree((dev) => {
        const w = dev(rand([6, 4], 21)).setRequiresGrad(), b = dev(rand([4], 22)).setRequiresGrad();
        const x = dev(rand([5, 6], 23));
        const opt = gf.optimizers.sgd({ learningRate: 0.5, ...args });
        for (let s = 0; s < 2; s++) {
          w.zeroGrad();
          b.zeroGrad();
          x.matmul(w).add(b).square().sum().backward();
          opt.applyGradients([{ param: w, grad: w.grad! }, { param: b, grad: b.grad! }]);
        }
        return [w, b];
      });
    }
  });

  test('a CNN (augmentation, conv, max pool, batch norm, dropout, dense) and an LSTM (whole sequences) train on cuda as on the CPU, and so do recurrent models with a last-step output, an embedding, masks and Bidirectional', async () => {
    const models: [string, (seed: number) => gf.Sequential, Tensor][] = [
      ['cnn', (seed) => {
        gf.setSeed(seed);
        return gf.sequential([
          gf.layers.randomTranslation({ heightFactor: 0.2, widthFactor: 0.2, seed: 9, inputShape: [7, 7, 2] }),
          gf.layers.randomFlip({ mode: 'horizontal', seed: 8 }),
          gf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
          gf.layers.maxPooling2d({ poolSize: 2 }),
          gf.layers.batchNormalization(),
          gf.layers.flatten(),
          gf.layers.dropout({ rate: 0.25 }),
          gf.layers.dense({ units: 3, activation: 'softmax' }),
        ]);
      }, gf.randn([12, 7, 7, 2], { seed: 31 })],
      ['lstm', (seed) => {
        gf.setSeed(seed);
        return gf.sequential([
          gf.layers.lstm({ units: 5, inputShape: [4, 3], returnSequences: true }),
          gf.layers.flatten(),
          gf.layers.dense({ units: 3, activation: 'softmax' }),
        ]);
      }, gf.randn([12, 4, 3], { seed: 32 })],
      ['lstm (last step)', (seed) => {
        gf.setSeed(seed);
        return gf.sequential([
          gf.layers.lstm({ units: 5, inputShape: [4, 3] }),
          gf.layers.dense({ units: 3, activation: 'softmax' }),
        ]);
      }, gf.randn([12, 4, 3], { seed: 33 })],
      ['embedding (maskZero) + bidirectional gru', (seed) => {
        gf.setSeed(seed);
        return gf.sequential([
          gf.layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputShape: [6] }),
          gf.layers.bidirectional({ layer: gf.layers.gru({ units: 3 }) }),
          gf.layers.dense({ units: 3, activation: 'softmax' }),
        ]);
      }, gf.tensor(Array.from({ length: 72 }, (_, i) => (i % 6 >= 4 + (i % 2) ? 0 : 1 + (i * 7) % 8)), [12, 6], { dtype: 'int32' })],
      ['masking + simpleRNN', (seed) => {
        gf.setSeed(seed);
        return gf.sequential([
          gf.layers.masking({ maskValue: 0, inputShape: [5, 2] }),
          gf.layers.simpleRNN({ units: 4 }),
          gf.layers.dense({ units: 3, activation: 'softmax' }),
        ]);
      }, gf.tensor(Array.from({ length: 120 }, (_, i) => ((i % 10) >= 8 ? 0 : Math.sin(i))), [12, 5, 2])],
    ];
    const y = gf.tensor(Array.from({ length: 12 }, (_, i) => i % 3), [12], { dtype: 'int32' });
    for (const [name, make, x] of models) {
      const onCpu = make(6), onDev = make(6).to('cuda');
      for (const m of [onCpu, onDev]) m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const hc = await onCpu.fit(x, y, { epochs: 2, batchSize: 5, seed: 4, verbose: 0 });
      const hd = await onDev.fit(x, y, { epochs: 2, batchSize: 5, seed: 4, verbose: 0 });
      (hd.history.loss as number[]).forEach((l, i) => {
        const lc = (hc.history.loss as number[])[i];
        if (!(Math.abs(l - lc) < 1e-4 * (1 + Math.abs(lc)))) throw new Error(`${name}: epoch ${i} loss ${l} on cuda, ${lc} on the CPU`);
      });
      onDev.weights.forEach((v, i) => close(v.value.cpu(), onCpu.weights[i].value, 1e-3));
      close(onDev.predict(x), onCpu.predict(x), 1e-4);
    }
  });

  // The garbage collector may free unreachable handles at any allocation, so counts here only
  // ever fall behind the test's back: the checks are upper bounds, and "freed" is checked
  // directly (a freed tensor's storage throws 'disposed' when read).
  test('a GAN (batch norm in the generator, frozen while the discriminator steps) trains on cuda as on the CPU', () => {
    const make = (device: 'cpu' | 'cuda'): gf.GAN => {
      gf.setSeed(3);
      const generator = gf.sequential([gf.layers.dense({ units: 6, activation: 'leakyRelu', inputShape: [3] }),
        gf.layers.batchNormalization(), gf.layers.dense({ units: 2 })], { name: 'gen' });
      const discriminator = gf.sequential([gf.layers.dense({ units: 5, activation: 'leakyRelu', inputShape: [2] }),
        gf.layers.dense({ units: 1 })], { name: 'disc' });
      generator.to(device);
      discriminator.to(device);
      return gf.gan({ generator, discriminator, latentDim: 3, seed: 5, labelSmoothing: 0.1,
        generatorOptimizer: gf.optimizers.adam({ learningRate: 1e-2 }), discriminatorOptimizer: gf.optimizers.adam({ learningRate: 1e-2 }) });
    };
    const onCpu = make('cpu'), onDev = make('cuda');
    const real = rand([10, 2], 61);
    for (let s = 0; s < 3; s++) {
      const lc = onCpu.trainStep(real), ld = onDev.trainStep(real);
      for (const k of ['d_loss', 'g_loss', 'd_real', 'd_fake'] as const) {
        if (!(Math.abs(ld[k] - lc[k]) < 1e-4)) throw new Error(`step ${s}: ${k} ${ld[k]} on cuda, ${lc[k]} on the CPU`);
      }
    }
    // the moving statistics moved only in the generator's own steps, on both devices
    onDev.generator.weights.forEach((v, i) => close(v.value.cpu(), onCpu.generator.weights[i].value, 1e-3));
    onDev.discriminator.weights.forEach((v, i) => close(v.value.cpu(), onCpu.discriminator.weights[i].value, 1e-3));
    const samples = onDev.generate(4, { seed: 2 });
    close(samples.device === 'cpu' ? samples : samples.cpu(), onCpu.generate(4, { seed: 2 }), 1e-3);
  });

  test('memory: dispose frees now, tidy frees what its result does not hold, fit does not grow', async () => {
    const base = gf.memory().cuda!;
    const g = gf.ones([1000]).to('cuda');
    expect(gf.memory().cuda!.bytes).toBeGreaterThanOrEqual(4000);
    g.dispose();
    expect(gf.memory().cuda!.bytes).toBeLessThanOrEqual(base.bytes);
    expect(() => g.cpu()).toThrow(/disposed/);
    g.dispose();  // twice is fine

    const a = rand([50, 20], 12).to('cuda');
    let inside: Tensor[] = [];
    const kept = gf.tidy(() => {
      const doubled = gf.mul(a, 2);
      const t = gf.relu(doubled);
      const e = gf.exp(t);
      inside = [doubled, e];
      return { out: gf.sum(e, 1), also: [t] };
    });
    for (const t of inside) expect(() => t.cpu()).toThrow(/disposed/);
    expect(kept.out.cpu().shape).toEqual([50]);
    expect(kept.also[0].cpu().shape).toEqual([50, 20]);
    expect(a.cpu().shape).toEqual([50, 20]);  // made outside: tidy leaves it
    kept.out.dispose(); kept.also[0].dispose(); a.dispose();
    expect(gf.memory().cuda!.bytes).toBeLessThanOrEqual(base.bytes);

    const m = mlp(4).to('cuda');
    const x = gf.randn([32, 12], { seed: 5 });
    const y = gf.tensor(Array.from({ length: 32 }, (_, i) => i % 5), [32], { dtype: 'int32' });
    const before = gf.memory().cuda!.buffers;
    await m.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 });
    // 4 weights and Adam's 8 slots stay; 24 steps of activations, gradients and batches do not
    expect(gf.memory().cuda!.buffers - before).toBeLessThanOrEqual(12);
  });

  test('errors: mixed devices, disposed storage, out of device memory are DeviceErrors', () => {
    const c = rand([2, 3], 13);
    const g = c.to('cuda');
    expect(() => gf.add(c, g)).toThrow(gf.DeviceError);
    expect(() => gf.add(c, g)).toThrow(/different devices/);
    const h = rand([2, 3], 14).to('cuda');
    h.dispose();
    expect(() => gf.add(g, h)).toThrow(/disposed/);
    // the emulated device has 8 GiB; a GPU has less than 2^40 bytes
    expect(() => cudaBackend.allocateOutput('float32', 2 ** 38)).toThrow(gf.DeviceError);
    expect(() => cudaBackend.allocateOutput('float32', 2 ** 38)).toThrow(/memory/i);
    // the device is still usable afterwards
    expect(Array.from(gf.add(g, 1).cpu().data)).toEqual(Array.from(gf.add(c, 1).data));
  });
});

