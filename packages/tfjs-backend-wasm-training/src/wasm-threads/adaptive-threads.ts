import { kernelsOf, wasmModuleOf, type Tf } from '../tfjs-private';
import type { KernelArgs, TensorInfo } from '../wasm-kernels/wasm-backend-handle';
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
  /**
   * A shape whose last warm-up call took less than this stays on one thread for good: below it the
   * pool's gain is small and its worker's spinning after each call competes with the main thread
   * (measured: the text model, 18 ms steps, lost 25% when its 1–3 ms shapes could use the pool).
   */
  minMs: 4,
  /**
   * The pool workers are spawned only once the shapes above minMs have taken this long in all
   * (on one thread): short runs and small models never start a thread.
   */
  spawnAfterMs: 250,
  /** Timed calls per side before the first choice. */
  trials: 3,
  /** The pool must take at most this fraction of one thread's time. */
  margin: 0.85,
  /** After the choice, every this many calls a block (1 untimed + 2 timed) runs on the other side. */
  recheckEvery: 48,
  /** Samples kept per side (the median of these decides). */
  window: 5,
} as const;

type Side = 'one' | 'many';

/**
 * Kernels of ours that never run an XNNPACK operator (our SIMD and JS kernels): the pool cannot
 * speed them up, so they neither try it nor count towards starting it.
 */
export const NO_POOL_KERNELS: ReadonlySet<string> = new Set([
  'Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'MaxPoolGrad', 'Sum', 'Mean', 'UnsortedSegmentSum',
  'Tile', 'GatherV2', 'Identity', 'Cast', 'Reshape', 'GreaterEqual', 'LessEqual', 'Greater', 'Less', 'Equal', 'NotEqual',
  'LogicalAnd', 'Select', 'FusedBatchNorm', 'LossLensFusedBatchNormGrad',
]);

/** The decision for one (kernel, shapes): pure bookkeeping, so tests can drive it. */
export class SideChooser {
  private calls = 0;
  private readonly samples: Record<Side, number[]> = { one: [], many: [] };
  private choice: Side = 'one';
  private small = false;
  /** Calls planned ahead: a side, and whether its time counts. */
  private plan: Array<{ side: Side; timed: boolean }> = [];
  private current: { side: Side; timed: boolean } | null = null;
  private started = false;

  /** Set by the caller: whether the pool can be used yet. */
  poolReady = true;

  /**
   * Which side the next call runs on; null: one thread, untimed (warm-up, or too small). Trials
   * come in blocks (a pool that is used only now and then measures slow: its worker's first call
   * after idling costs up to a whole kernel), each block led by one untimed call on that side.
   */
  next(): Side | null {
    this.current = null;
    if (this.small) return null;
    if (this.calls < ADAPTIVE.warmup) {
      this.calls++;
      if (this.calls < ADAPTIVE.warmup) return null;
      this.current = { side: 'one', timed: true };
      return 'one';
    }
    // Nothing to compare with yet: one thread, timed towards spawning the pool.
    if (!this.poolReady) return 'one';
    this.calls++;
    if (!this.started) {
      this.started = true;
      this.plan = [...block('many', ADAPTIVE.trials), ...block('one', ADAPTIVE.trials)];
    } else if (this.plan.length === 0 && this.calls % ADAPTIVE.recheckEvery === 0) {
      this.plan = block(this.choice === 'one' ? 'many' : 'one', 2);
    }
    // Calls on the chosen side are timed too, so its window follows the machine's load.
    this.current = this.plan.shift() ?? { side: this.choice, timed: true };
    return this.current.side;
  }

  record(side: Side, ms: number): void {
    const current = this.current;
    this.current = null;
    if (this.calls === ADAPTIVE.warmup && !this.started && current?.timed) {
      // The last warm-up call: is this shape worth trying the pool on at all?
      this.small = ms < ADAPTIVE.minMs;
      return;
    }
    if (!current?.timed || current.side !== side) return;
    const s = this.samples[side];
    s.push(ms);
    if (s.length > ADAPTIVE.window) s.shift();
    const { one, many } = this.samples;
    if (one.length >= ADAPTIVE.trials && many.length >= ADAPTIVE.trials) {
      this.choice = median(many) <= ADAPTIVE.margin * median(one) ? 'many' : 'one';
    }
  }

  /** Median ms per side so far (NaN where none). */
  medians(): Record<Side, number> {
    return { one: this.samples.one.length ? median(this.samples.one) : Number.NaN, many: this.samples.many.length ? median(this.samples.many) : Number.NaN };
  }

  get decided(): Side | null {
    if (this.small) return 'one';
    const { one, many } = this.samples;
    return one.length >= ADAPTIVE.trials && many.length >= ADAPTIVE.trials ? this.choice : null;
  }
}

/** One untimed call on `side`, then `timed` timed ones. */
function block(side: Side, timed: number): Array<{ side: Side; timed: boolean }> {
  return [{ side, timed: false }, ...Array.from({ length: timed }, () => ({ side, timed: true }))];
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
 * Wraps every wasm kernel (call after installWasmTrainingKernels, and any kernel of your own, is registered). Does nothing
 * unless the backend was started for adaptive threads (threaded-wasm-backend.ts).
 */
export function installAdaptiveThreads(tf: Tf): boolean {
  const module = wasmModuleOf(tf.findBackend('wasm'));
  const pools = module ? threadPoolsOf(module) : null;
  if (!module || !pools || installed.has(tf)) return false;
  const choosers = new Map<string, SideChooser>();
  installed.set(tf, { choosers, pools });
  let depth = 0;
  // Time spent on one thread in shapes large enough to try the pool, until it is spawned.
  let candidateMs = 0;
  for (const kernel of kernelsOf(tf, 'wasm')) {
    if (NO_POOL_KERNELS.has(kernel.kernelName)) continue;
    const inner = kernel.kernelFunc;
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

/** Per shape: its decision and median times (for debugging and the threads bench). */
export function adaptiveThreadsDetail(tf: Tf): Array<{ key: string; decided: Side | null } & Record<Side, number>> {
  const s = installed.get(tf);
  if (!s) return [];
  return [...s.choosers.entries()].filter(([, c]) => c.decided !== 'one' || Number.isFinite(c.medians().many)).map(([key, c]) => ({ key, decided: c.decided, ...c.medians() }));
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
