import * as gf from '../lib';

describe('backend', () => {
  test('backendInfo reports threads and the GEMM micro-kernel', () => {
    const info = gf.backendInfo();
    expect(info.numThreads).toBeGreaterThanOrEqual(1);
    expect(['avx512', 'avx2', 'ref']).toContain(info.gemmKernel);
    expect(info.availableGemmKernels).toContain('ref');
  });

  test('setNumThreads changes the pool and rejects nonsense', () => {
    const before = gf.backendInfo().numThreads;
    gf.setNumThreads(1);
    expect(gf.backendInfo().numThreads).toBe(1);
    gf.setNumThreads(before);
    expect(gf.backendInfo().numThreads).toBe(before);
    expect(() => gf.setNumThreads(0)).toThrow(/n must be an integer >= 1, got 0/);
    expect(() => gf.setNumThreads(NaN)).toThrow(gf.ValueError);
  });
});
