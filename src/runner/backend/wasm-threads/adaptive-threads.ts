import type { Tf } from '../../tfjs-internals';
import type { KernelArgs, KernelFunc, TensorInfo, WasmModuleLike } from '../wasm-kernels/wasm-backend-handle';
import { threadPoolsOf, type ThreadPools } from './thread-pools';

/**
 * Threads where they pay, decided kernel by kernel from what this run measures. A training step
 * runs the same kernels on the same shapes every time, so each (kernel, input shapes) is timed on
 * one thread and on the pool a few times, then runs on whichever was faster by a clear margin, and
 * is timed on the other again now and then (the machine's load changes). Small kernels never
 * wake the pool: on the text model and the MLP most kernels are below the floor, and those above
 * it stay on one thread unless the pool measurably wins.
 */
export const ADAPTIVE = {
  /** Kernels whose inputs hold fewer elements than this always run on one thread. */
  minElements: 16_384,
  /** First calls of a shape on one thread; XNNPACK creates and caches its operator in the first. */
  warmup: 2,
  /** A shape whose last warm-up call took less than this stays on one thread for good. */
  minMs: 1.5,
  /**
   * The pool workers are spawned only once the shapes above minMs have taken this long in all
   * (on one thread): short runs and small models never start a thread.
   */
  spawnAfterMs: 250,
  /** Timed calls per side before the first choice. */
  trials: 3,
  /** The pool must take at most this fraction of one thread's time. */
  margin: 0.9,
  /** After the choice, one call in this many runs on the other side. */
  recheckEvery: 32,
  /** Samples kept per side (the median of these decides). */
  window: 5,
} as const;

type Side = 'one' | 'many';

/** The decision for one (kernel, shapes): pure bookkeeping, so tests can drive it. */
export class SideChooser {
  private calls = 0;
  private readonly samples: Record<Side, number[]> = { one: [], many: [] };
  private choice: Side = 'one';
  private small = false;

  /** Which side the next call runs on; null: run it on one thread, untimed (warm-up, or too small). */
  next(): Side | null {
    this.calls++;
    if (this.small || this.calls < ADAPTIVE.warmup) return null;
    if (this.calls === ADAPTIVE.warmup) return 'one';
    if (!this.poolReady) {
      // Nothing to compare with yet: one thread, timed towards spawning the pool.
      this.calls--;
      return 'one';
    }
    const { one, many } = this.samples;
    if (one.length < ADAPTIVE.trials || many.length < ADAPTIVE.trials) return many.length <= one.length ? 'many' : 'one';
    if (this.calls % ADAPTIVE.recheckEvery === 0) return this.choice === 'one' ? 'many' : 'one';
    return this.choice;
  }

  /** Set by the caller: whether the pool can be used yet. */
  poolReady = true;

  record(side: Side, ms: number): void {
    if (this.calls === ADAPTIVE.warmup) {
      this.small = ms < ADAPTIVE.minMs;
      return;
    }
    if (!this.poolReady) return;
    const s = this.samples[side];
    s.push(ms);
    if (s.length > ADAPTIVE.window) s.shift();
    const { one, many } = this.samples;
    if (one.length >= ADAPTIVE.trials && many.length >= ADAPTIVE.trials) {
      this.choice = median(many) <= ADAPTIVE.margin * median(one) ? 'many' : 'one';
    }
  }

  get decided(): Side | null {
    if (this.small) return 'one';
    const { one, many } = this.samples;
    return one.length >= ADAPTIVE.trials && many.length >= ADAPTIVE.trials ? this.choice : null;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function inputElements(inputs: KernelArgs['inputs']): number {
  let n = 0;
  for (const key in inputs) {
    const t = inputs[key] as TensorInfo | null | undefined;
    if (!t) continue;
    let size = 1;
    for (const d of t.shape) size *= d;
    n += size;
  }
  return n;
}

function shapeKey(name: string, inputs: KernelArgs['inputs']): string {
  let key = name;
  for (const k in inputs) key += `|${inputs[k]?.shape.join('x') ?? '-'}`;
  return key;
}

export interface AdaptiveThreadsStats {
  threads: number;
  /** Whether the pool workers were started at all. */
  spawned: boolean;
  /** Shapes decided so far, and how many of them run on the pool. */
  decided: number;
  onPool: number;
}

const installed = new WeakMap<object, { choosers: Map<string, SideChooser>; pools: ThreadPools }>();

/**
 * Wraps every wasm kernel (call after all of Loss Lens's kernels are registered). Does nothing
 * unless the backend was started for adaptive threads (threaded-wasm-backend.ts).
 */
export function installAdaptiveThreads(tf: Tf): boolean {
  const module = (tf.findBackend('wasm') as unknown as { wasm?: WasmModuleLike } | null)?.wasm;
  const pools = module ? threadPoolsOf(module) : null;
  if (!module || !pools || installed.has(tf)) return false;
  const choosers = new Map<string, SideChooser>();
  installed.set(tf, { choosers, pools });
  let depth = 0;
  // Time spent on one thread in shapes large enough to try the pool, until it is spawned.
  let candidateMs = 0;
  for (const kernel of tf.getKernelsForBackend('wasm')) {
    const inner = kernel.kernelFunc as unknown as KernelFunc;
    const name = kernel.kernelName;
    (kernel as { kernelFunc: unknown }).kernelFunc = (args: KernelArgs) => {
      // Nested calls (a cpu-bridged kernel running others) keep the outer kernel's side.
      if (depth > 0 || inputElements(args.inputs) < ADAPTIVE.minElements) return inner(args);
      const key = shapeKey(name, args.inputs);
      let chooser = choosers.get(key);
      if (!chooser) choosers.set(key, (chooser = new SideChooser()));
      chooser.poolReady = pools.ready();
      const side = chooser.next();
      if (side === null) return inner(args);
      depth++;
      pools.useMany(side === 'many');
      const started = performance.now();
      try {
        return inner(args);
      } finally {
        const ms = performance.now() - started;
        chooser.record(side, ms);
        pools.useMany(false);
        depth--;
        if (!pools.spawned && chooser.decided !== 'one' && (candidateMs += ms) >= ADAPTIVE.spawnAfterMs) pools.spawn();
      }
    };
  }
  return true;
}

export function adaptiveThreadsStats(tf: Tf): AdaptiveThreadsStats | null {
  const s = installed.get(tf);
  if (!s) return null;
  let decided = 0;
  let onPool = 0;
  for (const c of s.choosers.values()) {
    if (c.decided === null) continue;
    decided++;
    if (c.decided === 'many') onPool++;
  }
  return { threads: s.pools.threads, spawned: s.pools.spawned, decided, onPool };
}
