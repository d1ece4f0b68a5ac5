import { activeBackend, readsInPlace, wasmHeapView, type BackendLike, type Tensor, type TensorInfo, type Tf } from '../../tfjs-internals';
import { BackendKernels, single } from './backend-kernels';

/** At most this many elements of a weight are read per step: exact below it, a fixed random sample above. */
export const SAMPLE_SIZE = 2048;

/** FNV-1a of a string: the seed of a weight's sample, so the same weight is sampled the same way in every run. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, seeded, good enough to spread a sample over a weight. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `k` distinct indices in [0, n), sorted, from a seed (Floyd's algorithm over a bitmap: O(k) draws, whatever n is). */
export function sampleIndices(n: number, k: number, seed: number): Int32Array {
  if (k >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const next = random(seed);
  const chosen = new Uint8Array(n);
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(next() * (j + 1));
    chosen[chosen[t] ? j : t] = 1;
  }
  const out = new Int32Array(k);
  for (let i = 0, o = 0; i < n; i++) if (chosen[i]) out[o++] = i;
  return out;
}

export function sampleSeed(weight: string): number {
  return hash(weight);
}

/**
 * About the k-th smallest of `values` (0-based): exact by a native sort of a copy up to 65,536 values, else the same
 * quantile of a seeded subsample of that many. Run once per weight, cold: a sort in C++ beats a JavaScript quickselect.
 */
function kthSmallest(values: Float32Array, k: number, seed: number): number {
  const LIMIT = 1 << 16;
  if (values.length <= LIMIT) return Float32Array.from(values).sort()[k];
  const next = random(seed ^ 0x5bd1e995);
  const sub = new Float32Array(LIMIT);
  for (let i = 0; i < LIMIT; i++) sub[i] = values[Math.floor(next() * values.length)];
  sub.sort();
  return sub[Math.min(LIMIT - 1, Math.floor((k / values.length) * LIMIT))];
}

/**
 * A stratified sample for an adaptive optimizer, chosen once from the weight's first gradient: the half of the sample
 * with the smallest |g| (where the penalty's gradient rivals the data's, which is where Adam and its kin turn it into
 * the largest share of the step), taken whole, and a seeded uniform sample of the rest, each element of it standing
 * for (n − h)/(k − h) elements. The estimate stays unbiased over the sampling (strata are fixed sets); it is far
 * less noisy than a uniform sample when a few elements carry most of the decay.
 */
export function stratifiedSample(absGradient: Float32Array, k: number, seed: number): { indices: Int32Array; weights: Float64Array } {
  const n = absGradient.length;
  const h = k >> 1;
  const threshold = kthSmallest(absGradient, h - 1, seed);
  const chosen = new Uint8Array(n);
  let taken = 0;
  // Everything strictly below the threshold, then ties up to h.
  for (let i = 0; i < n && taken < h; i++) if (absGradient[i] < threshold) (chosen[i] = 1), taken++;
  for (let i = 0; i < n && taken < h; i++) if (!chosen[i] && absGradient[i] === threshold) (chosen[i] = 1), taken++;
  const small = taken;
  const next = random(seed);
  while (taken < k) {
    const t = Math.floor(next() * n);
    if (chosen[t]) continue;
    chosen[t] = 2;
    taken++;
  }
  const indices = new Int32Array(k);
  const weights = new Float64Array(k);
  const rest = (n - small) / (k - small);
  for (let i = 0, o = 0; i < n; i++) {
    if (!chosen[i]) continue;
    indices[o] = i;
    weights[o++] = chosen[i] === 1 ? 1 : rest;
  }
  return { indices, weights };
}

interface SampleIndex {
  size: number;
  /** Null when the whole weight is read. */
  indices: Int32Array | null;
  /** How many elements each sampled one stands for (a stratified sample); null: all alike. */
  weights: Float64Array | null;
  /** The indices as a backend tensor, made once per backend. */
  onBackend: { backend: BackendLike; info: TensorInfo } | null;
}

/**
 * Reads the same fixed elements of a weight (or of its gradient) on every step, as float64: the whole tensor when
 * it has at most SAMPLE_SIZE elements, else a seeded sample of that many. It runs the backend's own Reshape and
 * GatherV2 kernels and reads the result once, without the engine's bookkeeping (the same reason as WeightStats);
 * any surprise falls back to ordinary ops.
 */
export class WeightSampler {
  private readonly index = new Map<string, SampleIndex>();
  private readonly kernels: BackendKernels<'Reshape' | 'GatherV2'>;

  constructor(
    private readonly tf: Tf,
    private readonly sampleSize = SAMPLE_SIZE,
  ) {
    this.kernels = new BackendKernels(tf, ['Reshape', 'GatherV2']);
  }

  /** How many elements are read for this weight. */
  sampledSize(weight: string, size: number): number {
    return this.indexOf(weight, size).indices?.length ?? size;
  }

  /** Whether this weight is sampled (larger than the sample), and whether its sample is already stratified. */
  sampling(weight: string, size: number): 'whole' | 'uniform' | 'stratified' {
    const index = this.indexOf(weight, size);
    return index.indices === null ? 'whole' : index.weights ? 'stratified' : 'uniform';
  }

  /** Element weights of the weight's sample (null: every element counts once). */
  weightsOf(weight: string): Float64Array | null {
    return this.index.get(weight)?.weights ?? null;
  }

  /**
   * Replace a weight's uniform sample by one stratified on its gradient (stratifiedSample), before any state was
   * built on the old one. `gradient` is read whole, once.
   */
  stratify(weight: string, gradient: Tensor): boolean {
    const index = this.index.get(weight);
    if (!index || index.indices === null || index.weights) return false;
    let values: Float32Array;
    try {
      const raw = gradient.dataSync() as Float32Array;
      values = new Float32Array(raw.length);
      for (let i = 0; i < raw.length; i++) values[i] = Math.abs(raw[i]);
    } catch {
      return false;
    }
    if (values.length !== index.size) return false;
    const s = stratifiedSample(values, index.indices.length, sampleSeed(weight));
    index.indices = s.indices;
    index.weights = s.weights;
    if (index.onBackend) index.onBackend.backend.disposeData(index.onBackend.info.dataId);
    index.onBackend = null;
    return true;
  }

  /**
   * The sampled values of `t` (the weight `weight`, or a tensor of its shape), or null when it cannot be read. Into
   * `out` when it has the right length (the probe reuses its buffers from step to step).
   */
  read(weight: string, t: Tensor, out?: Float64Array): Float64Array | null {
    if (t.isDisposed || t.dtype !== 'float32') return null;
    const index = this.indexOf(weight, t.size);
    const k = index.indices?.length ?? t.size;
    const target = out && out.length === k ? out : new Float64Array(k);
    try {
      // Where the backend's memory can be read in place (wasm's heap, cpu's arrays), picking the sample costs O(k).
      const inPlace = this.inPlace(t);
      if (inPlace) return pick(inPlace, index.indices, target);
      if (index.indices === null) return pick(activeBackend(this.tf).readSync(t.dataId) as Float32Array, null, target);
      return this.gatherViaKernels(t, index, target);
    } catch {
      try {
        return this.gatherViaOps(t, index);
      } catch {
        return null;
      }
    }
  }

  private indexOf(weight: string, size: number): SampleIndex {
    let index = this.index.get(weight);
    if (!index || index.size !== size) {
      const indices = size > this.sampleSize ? sampleIndices(size, this.sampleSize, sampleSeed(weight)) : null;
      index = { size, indices, weights: null, onBackend: null };
      this.index.set(weight, index);
    }
    return index;
  }

  private inPlace(t: Tensor): Float32Array | null {
    const name = this.tf.getBackend();
    const backend = activeBackend(this.tf);
    if (name === 'wasm') return wasmHeapView(backend, t.dataId, t.size);
    if (readsInPlace(name)) return backend.readSync(t.dataId) as Float32Array;
    return null;
  }

  private gatherViaKernels(t: Tensor, index: SampleIndex, out: Float64Array): Float64Array {
    const backend = activeBackend(this.tf);
    const k = this.kernels.of(this.tf.getBackend());
    const indices = index.indices!;
    if (index.onBackend?.backend !== backend) {
      index.onBackend = { backend, info: { dataId: backend.write(indices, [indices.length], 'int32'), shape: [indices.length], dtype: 'int32' } };
    }
    const x: TensorInfo = { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
    const flat = single(k.Reshape({ inputs: { x }, backend, attrs: { shape: [t.size] } }));
    try {
      const picked = single(k.GatherV2({ inputs: { x: flat, indices: index.onBackend.info }, backend, attrs: { axis: 0, batchDims: 0 } }));
      try {
        return pick(backend.readSync(picked.dataId) as Float32Array, null, out);
      } finally {
        backend.disposeData(picked.dataId);
      }
    } finally {
      backend.disposeData(flat.dataId);
    }
  }

  private gatherViaOps(t: Tensor, index: SampleIndex): Float64Array {
    const tf = this.tf;
    if (index.indices === null) return Float64Array.from(t.dataSync() as Float32Array);
    const picked = tf.tidy(() => tf.gather(tf.reshape(t, [-1]), tf.tensor1d(index.indices!, 'int32')));
    try {
      return Float64Array.from(picked.dataSync() as Float32Array);
    } finally {
      picked.dispose();
    }
  }
}

function pick(values: ArrayLike<number>, indices: Int32Array | null, out: Float64Array): Float64Array {
  if (indices === null) for (let i = 0; i < out.length; i++) out[i] = values[i];
  else for (let i = 0; i < out.length; i++) out[i] = values[indices[i]];
  return out;
}
