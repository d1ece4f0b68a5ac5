import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { WasmMemoryLike, WasmModuleLike } from '../wasm-kernels/wasm-backend-handle';

/** The few WebAssembly JS API calls used here (the runner's lib has no WebAssembly types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => WasmMemoryLike;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * This package's own wasm-SIMD kernels (AssemblyScript in `./assembly`, built by
 * scripts/build-simd-kernels.mjs). They own no memory: each instance imports the tfjs wasm
 * backend's heap, so tensors are read and written in place. The threaded build's heap is a
 * SharedArrayBuffer, which only a module declaring shared memory may import: hence two binaries
 * from one source.
 */
export const SIMD_WASM_FILES = { single: 'wasm-training-simd.wasm', shared: 'wasm-training-simd-shared.wasm' } as const;

export interface SimdKernels {
  conv2dFilterGradScratchBytes(kH: number, kW: number, inC: number, outW: number, outC: number, rowsPerChunk: number): number;
  conv2dFilterGrad(
    x: number, dy: number, dw: number, scratch: number,
    batch: number, inH: number, inW: number, inC: number,
    outH: number, outW: number, outC: number,
    kH: number, kW: number, strideH: number, strideW: number, dilH: number, dilW: number,
    padTop: number, padLeft: number, rowsPerChunk: number,
  ): void;
  compareF32(op: number, a: number, aScalar: number, b: number, bScalar: number, out: number, n: number): void;
  logicalAnd(a: number, aScalar: number, b: number, bScalar: number, out: number, n: number): void;
  selectF32(cond: number, t: number, e: number, out: number, n: number): void;
  depthwiseFilterGrad(
    x: number, dy: number, dw: number, acc: number,
    batch: number, inH: number, inW: number, channels: number, outH: number, outW: number,
    kH: number, kW: number, strideH: number, strideW: number, dilH: number, dilW: number, padTop: number, padLeft: number,
  ): void;
  maxPoolGrad(
    x: number, dy: number, dx: number, batch: number, inH: number, inW: number, channels: number, outH: number, outW: number,
    strideH: number, strideW: number, effH: number, effW: number, padTop: number, padLeft: number,
  ): void;
  batchNormGrad(x: number, dy: number, stats: number, dx: number, acc: number, out: number, rows: number, channels: number): void;
  columnSums(x: number, rows: number, width: number, acc: number, out: number, scale: number): void;
  batchNormChannels(x: number, mean: number, factor: number, offset: number, out: number, rows: number, channels: number): void;
}

const compiled = new Map<keyof typeof SIMD_WASM_FILES, object | null>();
const instances = new WeakMap<WasmMemoryLike, SimdKernels | null>();

/**
 * Where the .wasm files are: next to the code that runs, i.e. beside this source file, beside the package's
 * dist/index.js, or beside a consumer's bundle that copied them (Loss Lens's dist/runner.js).
 */
function wasmPath(file: string): string | null {
  for (const dir of [__dirname, path.join(__dirname, 'simd')]) {
    const p = path.join(dir, file);
    try {
      readFileSync(p, { flag: 'r' }).byteLength;
      return p;
    } catch {
      // try the next one
    }
  }
  return null;
}

function compile(kind: keyof typeof SIMD_WASM_FILES): object | null {
  if (compiled.has(kind)) return compiled.get(kind) ?? null;
  let m: object | null = null;
  try {
    const p = wasmPath(SIMD_WASM_FILES[kind]);
    if (p) m = new WA.Module(readFileSync(p));
  } catch {
    m = null; // no wasm SIMD in this runtime
  }
  compiled.set(kind, m);
  return m;
}

/** The backend's WebAssembly.Memory: exported by the single-threaded build, created in JS by the threaded one. */
export function backendMemory(module: WasmModuleLike): WasmMemoryLike | null {
  const m = module.wasmMemory ?? module.asm?.memory;
  return m instanceof WA.Memory ? m : null;
}

/**
 * Our kernels on this backend's heap, or null where they cannot run (no SIMD, an unknown
 * backend build, the files missing, or TFJS_WASM_TRAINING_SIMD=0): callers then use the
 * XNNPACK-based kernels. LOSS_LENS_SIMD_KERNELS=0 is the same switch under the name it had in Loss Lens,
 * where this package comes from (its README documents it).
 */
export function simdKernelsFor(module: WasmModuleLike, env: NodeJS.ProcessEnv = process.env): SimdKernels | null {
  if (env.TFJS_WASM_TRAINING_SIMD === '0' || env.LOSS_LENS_SIMD_KERNELS === '0') return null;
  const memory = backendMemory(module);
  if (!memory) return null;
  if (instances.has(memory)) return instances.get(memory) ?? null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const wasmModule = compile(shared ? 'shared' : 'single');
  let kernels: SimdKernels | null = null;
  if (wasmModule) {
    try {
      kernels = new WA.Instance(wasmModule, { env: { memory } }).exports as unknown as SimdKernels;
    } catch {
      kernels = null;
    }
  }
  instances.set(memory, kernels);
  return kernels;
}
