import type { PThreadWorkerLike, WasmModuleLike } from '../wasm-kernels/wasm-backend-handle';

/**
 * Two XNNPACK thread pools in one threaded wasm module, switched per kernel: tfjs keeps one pool
 * pointer, which every XNNPACK operator reads when it runs, and `init_with_threads_count` makes a
 * new pool and stores it there. So after the pool workers have loaded we make a pool of `threads`
 * once, keep both pointers, and write whichever a kernel should use into that global.
 */
export class ThreadPools {
  private one = 0;
  private many = 0;
  private state: 'idle' | 'loading' | 'ready' | 'failed' = 'idle';
  private loaded: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private workers: PThreadWorkerLike[] = [];

  constructor(
    private readonly module: WasmModuleLike,
    readonly threads: number,
    private readonly address: number,
  ) {}

  /** Whether the pool workers were ever asked for. */
  get spawned(): boolean {
    return this.state !== 'idle';
  }

  /**
   * Spawns the `threads − 1` pool workers (once). They load the module in the background; each
   * sets its cell once it has (see LOADED_SIGNAL), which a training loop that never yields to the
   * event loop can still see.
   */
  spawn(): void {
    if (this.state !== 'idle') return;
    const pthread = this.module.PThread;
    this.state = 'loading';
    try {
      if (!pthread) throw new Error('no pthreads');
      for (let i = 0; i < this.threads - 1; i++) {
        pthread.allocateUnusedWorker();
        const w = pthread.unusedWorkers[pthread.unusedWorkers.length - 1];
        pthread.loadWasmModuleToWorker(w);
        this.workers.push(w);
      }
      this.loaded = new Int32Array(new SharedArrayBuffer(4 * this.workers.length));
      this.workers.forEach((w, i) => {
        w.unref();
        w.postMessage({ wasmTrainingLoadedCell: this.loaded.buffer, wasmTrainingIndex: i });
      });
    } catch {
      this.state = 'failed';
    }
  }

  /** True once both pools exist; makes the large one the first time every worker has loaded. */
  ready(): boolean {
    if (this.state !== 'loading') return this.state === 'ready';
    for (let i = 0; i < this.workers.length; i++) if (Atomics.load(this.loaded, i) !== 1) return false;
    // Emscripten hears of it only through the event loop; tell it, so the pool can start now.
    for (const w of this.workers) w.loaded = true;
    this.state = this.build() ? 'ready' : 'failed';
    return this.state === 'ready';
  }

  /** Runs XNNPACK's next operators on `threads` threads (true) or on the caller's thread alone. */
  useMany(many: boolean): void {
    if (this.state === 'ready') this.module.HEAPU32[this.address >>> 2] = many ? this.many : this.one;
  }

  private build(): boolean {
    const { tfjs, PThread } = this.module;
    const heap = () => this.module.HEAPU32;
    const slot = this.address >>> 2;
    const one = heap()[slot];
    if (!one || tfjs.getThreadsCount() !== 1) return false;
    tfjs.initWithThreadsCount(this.threads);
    for (const w of PThread?.runningWorkers ?? []) w.unref();
    const many = heap()[slot];
    if (many === one) {
      // Not the pointer after all: the new pool is live everywhere, so go back to one thread.
      tfjs.initWithThreadsCount(1);
      return false;
    }
    const check = (pointer: number, expected: number) => {
      heap()[slot] = pointer;
      return tfjs.getThreadsCount() === expected;
    };
    if (tfjs.getThreadsCount() !== this.threads || !check(one, 1) || !check(many, this.threads)) {
      heap()[slot] = many;
      tfjs.initWithThreadsCount(1);
      return false;
    }
    heap()[slot] = one;
    this.one = one;
    this.many = many;
    return true;
  }
}

const pools = new WeakMap<object, ThreadPools>();

export function registerThreadPools(module: WasmModuleLike, threads: number, address: number): ThreadPools {
  const p = new ThreadPools(module, threads, address);
  pools.set(module, p);
  return p;
}

/** The pools of a backend module started for adaptive threading, if it was. */
export function threadPoolsOf(module: WasmModuleLike): ThreadPools | null {
  return pools.get(module) ?? null;
}
