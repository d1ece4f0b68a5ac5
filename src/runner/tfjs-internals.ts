/**
 * Every private part of tfjs (checked against 4.22) that the runner reads or wraps, typed narrowly, in
 * one file: after a tfjs upgrade, this is the file to re-check. The user's own tfjs may be another 4.x
 * build, so nothing here leans on private types beyond these. Public API (tf.layers.*, tf.train.*) is
 * used directly elsewhere.
 */
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;
export type Tensor = TF.Tensor;
export type Variable = TF.Variable;

// ---- the engine and its gradient tape -------------------------------------------------------------

export interface TapeTensor {
  readonly id: number;
  readonly shape: number[];
}

/** A node of the gradient tape: `Engine.addTapeNode` pushes these onto `state.activeTape`. */
export interface TapeNode {
  readonly id: number;
  readonly kernelName: string;
  readonly inputs: Record<string, TapeTensor>;
  readonly outputs: TapeTensor[];
  /** Clones of tensors the backward pass needs; tfjs records each clone as a tape node of its own. */
  readonly saved?: readonly TapeTensor[];
}

export type GradientsFn = (
  f: () => Tensor,
  xs: Tensor[],
  dy?: Tensor,
  allowNoGradients?: boolean,
) => { value: Tensor; grads: Tensor[] };

export type AddTapeNodeFn = (kernelName: string, inputs: Record<string, TapeTensor>, outputs: TapeTensor[], ...rest: unknown[]) => void;
export type MakeVariableFn = (initialValue: Tensor, trainable?: boolean, name?: string, dtype?: string) => Variable;

export interface EngineInternals {
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
  gradients: GradientsFn;
  /** Pushes one node onto `state.activeTape` (every kernel run while a tape records, and every saved clone). */
  addTapeNode: AddTapeNodeFn;
  /** Every `tf.variable`, a layer's weights included, is made here. */
  makeVariable: MakeVariableFn;
  /** Backends that have been started, by name. */
  registry: Record<string, unknown>;
}

export function engineOf(tf: Tf): EngineInternals {
  return tf.engine() as unknown as EngineInternals;
}

/** A tape entry as the tensor it is (the engine records the Tensor objects themselves). */
export function tapeTensor(t: TapeTensor): Tensor {
  return t as unknown as Tensor;
}

/** The first value of a tensor, or NaN if it cannot be read (disposed, or on a backend that failed). */
export function readScalar(t: Tensor): number {
  try {
    return t.dataSync()[0] as number;
  } catch {
    return Number.NaN;
  }
}

// ---- tfjs-layers ---------------------------------------------------------------------------------

export interface RegularizerLike {
  apply(x: Tensor): Tensor;
  getClassName?(): string;
  getConfig?(): Record<string, unknown>;
  l1?: number;
  l2?: number;
}

export interface LayerVariableLike {
  name: string;
  originalName: string;
  shape: number[];
  trainable: boolean;
  val: Variable;
  read(): Variable;
}

export interface LayerLike {
  name: string;
  getClassName(): string;
  weights: LayerVariableLike[];
  activityRegularizer: RegularizerLike | null;
  _losses: Array<() => Tensor>;
  /** Present on containers (Sequential, LayersModel). */
  layers?: unknown;
}

/**
 * Layers tfjs keeps inside another layer: an RNN's `cell` (StackedRNNCells' `cells`), a wrapper's `layer`,
 * Bidirectional's `forwardLayer` / `backwardLayer`. Their weights are the outer layer's weights too.
 */
export const NESTED_LAYER_KEYS = ['cell', 'layer', 'forwardLayer', 'backwardLayer'] as const;

export function nestedLayers(layer: LayerLike): Array<{ path: string; layer: LayerLike }> {
  const out: Array<{ path: string; layer: LayerLike }> = [];
  const record = layer as unknown as Record<string, unknown>;
  const isLayer = (x: unknown): x is LayerLike =>
    typeof x === 'object' && x !== null && typeof (x as LayerLike).getClassName === 'function' && Array.isArray((x as LayerLike)._losses);
  for (const key of NESTED_LAYER_KEYS) {
    const inner = record[key];
    if (isLayer(inner)) out.push({ path: key, layer: inner });
  }
  const cells = record.cells;
  if (Array.isArray(cells)) cells.forEach((c, i) => isLayer(c) && out.push({ path: `cells[${i}]`, layer: c }));
  return out;
}

export type AddWeightFn = (
  this: LayerLike,
  name: string,
  shape: number[],
  dtype?: string,
  initializer?: unknown,
  regularizer?: RegularizerLike | null,
  trainable?: boolean,
  ...rest: unknown[]
) => LayerVariableLike;

/** `tf.layers.Layer.prototype`, whose constructor, addWeight and apply the layer probe hooks. */
export function layerPrototype(tf: Tf): Record<string, unknown> {
  return (tf.layers as unknown as { Layer: { prototype: Record<string, unknown> } }).Layer.prototype;
}

/** `tf.LayersModel.prototype`, whose `fit` and `fitDataset` the fit-plan probe wraps; undefined in a tfjs without layers. */
export function layersModelPrototype(tf: Tf): Record<string, unknown> | undefined {
  return (tf as unknown as { LayersModel?: { prototype: Record<string, unknown> } }).LayersModel?.prototype;
}

/**
 * The first field tfjs-layers 4.x's `Layer` constructor assigns: a setter for it on `Layer.prototype` runs once
 * per layer as it is built, while the user's frames are still on the stack (the layer probe records the line).
 */
export const LAYER_FIRST_FIELD = '_addedWeightNames';

/** `tf.Variable.prototype`, whose `assign` the effective-decay probe hooks to see a decay the script applies itself. */
export function variablePrototype(tf: Tf): { assign: (this: Variable, value: Tensor) => void } {
  return tf.Variable.prototype as unknown as { assign: (this: Variable, value: Tensor) => void };
}

/** What `@tensorflow/tfjs-data` exports, as the union package re-exports it. */
export function dataNamespace(tf: Tf): unknown {
  return (tf as unknown as { data: unknown }).data;
}

// ---- the union package's CommonJS layout ---------------------------------------------------------

/**
 * The object whose own writable property holds `holder[name]` (`tf.loadLayersModel`, say). tfjs's CommonJS namespace re-exports each package's
 * functions through getters that read the package's own exports: patching that object reaches every
 * `tf.loadLayersModel`, and the named ES import the runner builds from it afterwards.
 */
export function writableExportHome(holder: object, name: string): Record<string, unknown> | null {
  const own = Object.getOwnPropertyDescriptor(holder, name);
  if (own && 'value' in own && own.writable) return holder as Record<string, unknown>;
  const fn = (holder as Record<string, unknown>)[name];
  if (typeof fn !== 'function') return null;
  for (const mod of Object.values(require.cache)) {
    const exports = mod?.exports as Record<string, unknown> | undefined;
    if (!exports || typeof exports !== 'object' || exports === holder) continue;
    const d = Object.getOwnPropertyDescriptor(exports, name);
    if (d && 'value' in d && d.value === fn && d.writable) return exports;
  }
  return null;
}

// ---- optimizers ----------------------------------------------------------------------------------

export interface OptimizerLike {
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  learningRate?: number;
}

/** An optimizer class's prototype by its export name (`Optimizer`, `AdamOptimizer`, …), if this tfjs has it. */
export function optimizerPrototype(tf: Tf, exportName: string): Record<string, unknown> | undefined {
  return (tf as unknown as Record<string, { prototype: Record<string, unknown> } | undefined>)[exportName]?.prototype;
}

// ---- backends and kernels ------------------------------------------------------------------------

/** What a kernel receives and returns: tfjs's `TensorInfo`, without tfjs's private types. */
export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

export type Attrs = Record<string, unknown>;
export type KernelArgs = { inputs: Record<string, TensorInfo | null | undefined>; backend: unknown; attrs?: Attrs };
export type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** What a backend's readSync returns: numbers, or bytes per element for string tensors. */
export type BackendValues = Float32Array | Int32Array | Uint8Array | Uint8Array[];

/** The parts of a backend (cpu, wasm) that the weight statistics call. */
export interface BackendLike {
  readSync(dataId: object): BackendValues;
  write(values: unknown, shape: number[], dtype: string): object;
  disposeData(dataId: object, force?: boolean): unknown;
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
}

/** A `WebAssembly.Memory` (the runner's lib has no WebAssembly types). */
export interface WasmMemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** The emscripten module of a started wasm backend (`backend.wasm`), or undefined on other backends. */
export function wasmModuleOf(backend: unknown): WasmModuleLike | undefined {
  return (backend as { wasm?: WasmModuleLike } | null | undefined)?.wasm;
}

/**
 * A float32 tensor's elements in place on the wasm heap, without a copy (the view is valid until the next wasm
 * allocation may grow the heap: read it at once); null on other backends or other dtypes.
 */
export function wasmHeapView(backend: BackendLike, dataId: object, size: number): Float32Array | null {
  const heapBacked = backend as BackendLike & {
    dataIdMap?: { get(dataId: object): { memoryOffset: number; dtype: string } | undefined };
    wasm?: { HEAPU8: Uint8Array };
  };
  const entry = heapBacked.dataIdMap?.get(dataId);
  if (!entry || !heapBacked.wasm || entry.dtype !== 'float32' || entry.memoryOffset % 4 !== 0) return null;
  return new Float32Array(heapBacked.wasm.HEAPU8.buffer, entry.memoryOffset, size);
}

/** The cpu backend keeps each tensor's values in a typed array that readSync hands out as is. */
export function readsInPlace(backendName: string): boolean {
  return backendName === 'cpu';
}

export function kernelFuncOf(tf: Tf, kernelName: string, backendName: string): KernelFunc | undefined {
  return tf.getKernel(kernelName, backendName)?.kernelFunc as unknown as KernelFunc | undefined;
}

/** The backend running now, as the weight statistics see it. */
export function activeBackend(tf: Tf): BackendLike {
  return tf.backend() as unknown as BackendLike;
}

/** The cpu backend (started if it was not), with its "install tfjs-node" banner switched off. */
export function cpuBackend(tf: Tf): BackendLike {
  const cpu = tf.engine().findBackend('cpu') as unknown as BackendLike & { firstUse?: boolean };
  cpu.firstUse = false;
  return cpu;
}

