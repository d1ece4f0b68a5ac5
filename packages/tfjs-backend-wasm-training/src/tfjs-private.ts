/**
 * Every private part of tfjs (checked against tfjs-core and tfjs-backend-wasm 4.22) that this package reads,
 * wraps or patches, typed narrowly, in one file: after a tfjs upgrade, this is the file to re-check.
 *
 * Why private parts at all: the kernels tfjs-backend-wasm lacks must run on its heap, beside its own kernels,
 * and tfjs exposes no public API for that. Concretely:
 * - a kernel receives the `BackendWasm` instance and must allocate outputs on its heap (`makeOutput`), find a
 *   tensor's bytes there (`getMemoryOffset`, `dataIdMap`) and call its stock kernels (`getKernelsForBackend`);
 * - our SIMD kernels import the emscripten module's `WebAssembly.Memory` (`backend.wasm`);
 * - the threaded build is started with our own emscripten settings (`cwrap`, `PThread`, the glue's text), and
 *   adaptive threads wrap the registered kernel configs in place and swap XNNPACK's pool pointer on the heap;
 * - the cpu bridge writes into and reads from the cpu backend (`engine().findBackend('cpu')`);
 * - the shape arithmetic is tfjs's own (`backend_util`), so our kernels agree with tfjs on padding and rounding.
 * Another tfjs 4.x build may differ: nothing here leans on private types beyond these.
 */
import type * as TF from '@tensorflow/tfjs-core';

export type Tf = typeof TF;
export type Tensor = TF.Tensor;

// ---- the engine --------------------------------------------------------------------------------------

/** Backends that have been started, by name (`Engine.registry`). */
export function startedBackends(tf: Tf): Record<string, unknown> {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
}

/** A registered gradient, as `registerGradient` takes it. */
export interface GradientConfigLike {
  kernelName: string;
  inputsToSave?: string[];
  gradFunc: (dy: Tensor, saved: Tensor[], attrs: Record<string, unknown>) => Record<string, () => Tensor>;
}

export function gradientOf(tf: Tf, kernelName: string): GradientConfigLike | undefined {
  return tf.getGradient(kernelName) as unknown as GradientConfigLike | undefined;
}

/** Runs a kernel through the engine (on the tape) and returns its outputs as tensors. */
export function runKernelOutputs(tf: Tf, kernelName: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown>): Tensor[] {
  const out = tf.engine().runKernel(kernelName, inputs as never, attrs as never) as unknown as Tensor | Tensor[];
  return Array.isArray(out) ? out : [out];
}

// ---- backends and kernels ----------------------------------------------------------------------------

/** What a kernel receives and returns: tfjs's `TensorInfo`, without tfjs's private types. */
export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

export type Attrs = Record<string, unknown>;
export type KernelArgs = { inputs: Record<string, TensorInfo | null | undefined>; backend: unknown; attrs?: Attrs };
export type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

export interface KernelConfigLike {
  kernelName: string;
  backendName: string;
  kernelFunc: KernelFunc;
  /** Run by the engine for every registered kernel when a backend starts: wasm binds its C function here. */
  setupFunc?: (backend: unknown) => void;
}

/** What a backend's readSync returns: numbers, or bytes per element for string tensors. */
export type BackendValues = Float32Array | Int32Array | Uint8Array | Uint8Array[];

/** The parts of a backend (cpu, wasm) the cpu bridge calls. */
export interface BackendLike {
  readSync(dataId: object): BackendValues;
  write(values: unknown, shape: number[], dtype: string): object;
  disposeData(dataId: object, force?: boolean): unknown;
}

/** The parts of tfjs-backend-wasm 4.x's `BackendWasm` the training kernels use. */
export interface BackendWasmLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** Shares a buffer between tensors, as the cpu backend's Identity does. */
  incRef(dataId: object): void;
  /** Byte offset of a tensor's data on the heap. */
  getMemoryOffset(dataId: object): number;
  /** The emscripten module: the heap our SIMD kernels share, and the XNNPACK thread pool. */
  readonly wasm: WasmModuleLike;
}

/** The emscripten module behind `BackendWasm` (`backend.wasm`), tfjs-backend-wasm 4.x. */
export interface WasmModuleLike {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  /** The threaded build's (shared) memory; the single-threaded build exports its memory as `asm.memory`. */
  wasmMemory?: WasmMemoryLike;
  asm?: { memory?: WasmMemoryLike };
  tfjs: { getThreadsCount(): number; initWithThreadsCount(threads: number): void };
  /** Emscripten's pthread bookkeeping, in the threaded build only. */
  PThread?: PThreadLike;
}

/** A `WebAssembly.Memory` (the package's lib has no WebAssembly types). */
export interface WasmMemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** A pthread's Node worker, as emscripten 3.x keeps it. */
export interface PThreadWorkerLike {
  loaded?: boolean;
  unref(): void;
  ref(): void;
  postMessage(message: unknown): void;
}

export interface PThreadLike {
  unusedWorkers: PThreadWorkerLike[];
  runningWorkers: PThreadWorkerLike[];
  allocateUnusedWorker(): void;
  loadWasmModuleToWorker(worker: PThreadWorkerLike, onFinishedLoading?: (worker: PThreadWorkerLike) => void): void;
}

/** A copy of a tensor's bytes straight from the wasm heap (wasm's readSync knows no complex64); null on other backends. */
export function wasmHeapCopy(backend: BackendLike, dataId: object, byteLength: number): ArrayBuffer | null {
  const heapBacked = backend as BackendLike & {
    dataIdMap?: { get(dataId: object): { memoryOffset: number } };
    wasm?: { HEAPU8: Uint8Array };
  };
  if (!heapBacked.dataIdMap || !heapBacked.wasm) return null;
  const start = heapBacked.dataIdMap.get(dataId).memoryOffset;
  return heapBacked.wasm.HEAPU8.buffer.slice(start, start + byteLength) as ArrayBuffer;
}

/** The emscripten module of a started wasm backend (`backend.wasm`), or undefined on other backends. */
export function wasmModuleOf(backend: unknown): WasmModuleLike | undefined {
  return (backend as { wasm?: WasmModuleLike } | null | undefined)?.wasm;
}

export function kernelsOf(tf: Tf, backendName: string): KernelConfigLike[] {
  return tf.getKernelsForBackend(backendName) as unknown as KernelConfigLike[];
}

/** The cpu backend (started if it was not), with its "install tfjs-node" banner switched off. */
export function cpuBackend(tf: Tf): BackendLike {
  const cpu = tf.engine().findBackend('cpu') as unknown as BackendLike & { firstUse?: boolean };
  cpu.firstUse = false;
  return cpu;
}

// ---- the threaded build of tfjs-backend-wasm ---------------------------------------------------------

/**
 * The emscripten module the threaded factory resolves to, before `BackendWasm` wraps it. tfjs's own loader
 * fills `tfjs` with these same `cwrap`s; we start the module ourselves (see threaded-wasm-backend.ts), so we do.
 */
export interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  PThread?: PThreadLike;
  tfjs?: Record<string, unknown>;
}

/** `BackendWasm`'s constructor takes the emscripten module: public export, private contract. */
export type BackendWasmClass = new (module: EmscriptenModule) => unknown;

const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';
/** The threaded SIMD build's files inside the package (not in its `exports`: resolved by path). */
export const THREADED_BUILD = {
  package: WASM_PACKAGE,
  factory: `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`,
  worker: `${WASM_PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`,
  wasm: 'tfjs-backend-wasm-threaded-simd.wasm',
} as const;

/**
 * Two statements of the threaded build's emscripten glue, as 4.22 ships it, that the lazy pool start
 * rewrites (threaded-wasm-backend.ts): the pool's size, and the wait for every pool worker to load.
 * A glue without exactly one of each is not ours to patch.
 */
export const THREADED_GLUE = {
  poolSize: 'var pthreadPoolSize=8;',
  noPool: 'var pthreadPoolSize=0;',
  waitForWorkers:
    'var numWorkersToLoad=PThread.unusedWorkers.length;PThread.unusedWorkers.forEach(function(w){PThread.loadWasmModuleToWorker(w,function(){if(!--numWorkersToLoad)removeRunDependency("wasm-instantiate")})})',
  loadInBackground: 'PThread.unusedWorkers.forEach(function(w){PThread.loadWasmModuleToWorker(w)});removeRunDependency("wasm-instantiate")',
} as const;

// ---- shape arithmetic of tfjs-core's backend_util, typed as our kernels read it ----------------------

/** The subset of tfjs's `Conv2DInfo` the gradient kernels read. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; bottom: number; left: number; right: number };
}

export function computeConvGeometry(
  tf: Tf,
  inShapeNHWC: number[],
  filterShape: number[],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: 'same' | 'valid' | number | number[][],
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): ConvGeometry {
  return tf.backend_util.computeConv2DInfo(
    inShapeNHWC as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad as never,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  ) as unknown as ConvGeometry;
}

/** The subset of tfjs's `Conv2DInfo` for pooling that MaxPoolGrad reads. */
export interface PoolGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  effectiveFilterHeight: number;
  effectiveFilterWidth: number;
  padInfo: { top: number; left: number };
}

export function computePoolGeometry(
  tf: Tf,
  inShapeNHWC: number[],
  filterSize: [number, number] | number,
  strides: [number, number] | number,
  pad: 'same' | 'valid' | number,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
): PoolGeometry {
  return tf.backend_util.computePool2DInfo(
    inShapeNHWC as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  ) as unknown as PoolGeometry;
}

export interface GatherShapeInfo {
  batchSize: number;
  outerSize: number;
  dimSize: number;
  sliceSize: number;
  outputShape: number[];
}

export function computeGatherShapeInfo(tf: Tf, x: TensorInfo, indices: TensorInfo, axis: number, batchDims: number): GatherShapeInfo {
  return tf.backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, axis, batchDims) as unknown as GatherShapeInfo;
}
