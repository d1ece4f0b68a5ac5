import { beforeAll, describe, expect, it } from 'vitest';
import { baseSeed, SeededRandom } from './helpers/seeded-random';
import { expectClose, loadWasmTfjs, onWasmAndCpu } from './helpers/wasm-tfjs';
import type { Tensor, Tf } from './helpers/tfjs';
import { WASM_TRAINING_KERNELS, type WasmTrainingKernelsInstall } from '../src/wasm-training-kernels';

let tf: Tf;
let install: WasmTrainingKernelsInstall;
const fellBack: string[] = [];

beforeAll(async () => {
  ({ tf, install } = await loadWasmTfjs((kernelName) => fellBack.push(kernelName)));
});

const count = (name: string) => fellBack.filter((k) => k === name).length;

describe('kernels wasm lacks run on cpu through the bridge', () => {
  it('leaves no kernel of the cpu backend unregistered on wasm', () => {
    const onWasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
    const missing = tf.getKernelsForBackend('cpu').map((k) => k.kernelName).filter((k) => !onWasm.has(k));
    expect(missing).toEqual([]);
    expect(install.fallback).toEqual(expect.arrayContaining(['Einsum', 'FFT', 'IFFT', 'Complex', 'Real', 'Imag']));
    expect(install.fallback).not.toContain('Conv2DBackpropFilter');
    expect(install.added).toEqual(WASM_TRAINING_KERNELS.map((k) => k.kernelName));
    expect(install.replaced).toEqual(expect.arrayContaining(['Conv2DBackpropInput', 'BatchMatMul']));
    expect(install.replaced).not.toContain('Conv2DBackpropFilter');
  });

  it('Einsum (array inputs) matches cpu, and onFallbackUsed fires once however often it runs', async () => {
    const rng = new SeededRandom(baseSeed() + 6000);
    const av = rng.floats(3 * 4 * 5);
    const bv = rng.floats(3 * 5 * 2);
    expect(count('Einsum')).toBe(0);
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const a = tf.tensor3d(av, [3, 4, 5]);
      const b = tf.tensor3d(bv, [3, 5, 2]);
      return [tf.einsum('bij,bjk->bik', a, b), tf.einsum('bij,bjk->bik', a, b), tf.einsum('bij->bj', a)];
    });
    for (let i = 0; i < 3; i++) expectClose(wasm[i], cpu[i], `einsum ${i}`);
    expect(count('Einsum')).toBe(1);
  });

  it('FFT round trip on complex64 tensors: Complex, FFT, IFFT, Real, Imag, ComplexAbs', async () => {
    const rng = new SeededRandom(baseSeed() + 6001);
    const re = rng.floats(2 * 8);
    const im = rng.floats(2 * 8);
    const { wasm, cpu } = await onWasmAndCpu(tf, () => {
      const signal = tf.complex(tf.tensor2d(re, [2, 8]), tf.tensor2d(im, [2, 8]));
      const spectrum = tf.spectral.fft(signal);
      const back = tf.spectral.ifft(spectrum);
      return [tf.real(spectrum), tf.imag(spectrum), tf.abs(spectrum), tf.real(back), tf.spectral.irfft(tf.spectral.rfft(tf.tensor2d(re, [2, 8]))) as Tensor];
    });
    for (let i = 0; i < wasm.length; i++) expectClose(wasm[i], cpu[i], `fft output ${i}`);
    for (const k of ['Complex', 'FFT', 'IFFT', 'Real', 'Imag', 'ComplexAbs']) expect(count(k), k).toBe(1);
  });

  it('never reports a kernel Loss Lens runs natively', () => {
    for (const k of install.added) expect(fellBack).not.toContain(k);
  });
});
