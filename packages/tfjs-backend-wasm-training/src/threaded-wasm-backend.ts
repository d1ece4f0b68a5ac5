import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  startedBackends,
  THREADED_BUILD,
  THREADED_GLUE,
  type BackendWasmClass,
  type EmscriptenModule,
  type Tf,
  type WasmModuleLike,
} from './tfjs-private';
import { threadPoolPointerAddress } from './wasm-threads/thread-pool-address';
import { registerThreadPools } from './wasm-threads/thread-pools';

type ThreadedFactory = (config: { locateFile(file: string): string }) => Promise<EmscriptenModule>;

/**
 * tfjs 4.22 runs wasm on one thread in Node: its WASM_HAS_MULTITHREAD_SUPPORT flag is false
 * there, its loader hands the pthread workers blob: URLs Node cannot start, and its C++ caps
 * the pool at half of `os.cpus()`. This replaces the 'wasm' backend factory (before the first
 * `setBackend('wasm')`) with one that starts the package's own threaded SIMD build on real
 * files and `threads` workers; if that fails, the stock factory runs as before and
 * `onFailure` says why. Returns false when it changed nothing.
 */
export function preferThreadedWasm(
  tf: Tf,
  req: NodeJS.Require,
  threads: number,
  onFailure: (reason: string) => void = () => {},
  adaptive = false,
  tempDir?: string,
): boolean {
  if (threads < 2 || typeof SharedArrayBuffer === 'undefined') return false;
  let factoryPath: string;
  let workerSource: string;
  let BackendWasm: BackendWasmClass;
  try {
    factoryPath = req.resolve(THREADED_BUILD.factory);
    workerSource = (req(THREADED_BUILD.worker) as { wasmWorkerContents: string }).wasmWorkerContents;
    BackendWasm = (req(THREADED_BUILD.package) as { BackendWasm: BackendWasmClass }).BackendWasm;
  } catch {
    return false;
  }
  const stock = tf.findBackendFactory('wasm');
  // Too late once a wasm backend exists (findBackend would start one, so look at the registry).
  const started = startedBackends(tf).wasm;
  if (!stock || started || typeof workerSource !== 'string' || typeof BackendWasm !== 'function') return false;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('this Node has no wasm SIMD');
        const lazy = adaptive ? lazyPoolFactory(factoryPath, threads, tempDir) : null;
        if (adaptive && !lazy) throw new Error('this tfjs-backend-wasm build cannot start its pool later');
        const factory = (lazy ? req(lazy.path) : req(factoryPath)) as ThreadedFactory;
        const module = await startThreadedModule(req, factory, factoryPath, workerSource, threads, lazy !== null, tempDir);
        const backend = new BackendWasm(module);
        // Idle pool threads must not keep the script's process alive after it finishes.
        for (const worker of module.PThread?.runningWorkers ?? []) worker.unref();
        if (lazy) registerThreadPools(module as unknown as WasmModuleLike, threads, lazy.address);
        return backend as never;
      } catch (err) {
        onFailure((err as Error).message ?? String(err));
        return stock();
      }
    },
    2,
  );
  return true;
}

/**
 * A file of the package's wasm build: next to the factory in wasm-out/, or in dist/ (the packaged
 * extension keeps only dist/'s copies of the .wasm binaries).
 */
function packageFile(factoryPath: string, file: string): string {
  const beside = path.join(path.dirname(factoryPath), file);
  if (existsSync(beside)) return beside;
  const inDist = path.join(path.dirname(factoryPath), '..', 'dist', file);
  return existsSync(inDist) ? inDist : beside;
}

/**
 * The threaded factory, patched to start at once: stock, it spawns 8 pool workers and waits until
 * each has loaded the module (0.2–0.35 s here) before anything runs. Patched, it spawns none; the
 * `threads − 1` workers are spawned later, and only if some kernel may gain from them
 * (wasm-threads/thread-pools.ts), and load in the background while the run goes on.
 * Null when this build's glue is not the one we know, or its pool pointer cannot be found.
 */
function lazyPoolFactory(factoryPath: string, threads: number, tempDir?: string): { path: string; address: number } | null {
  const wasmFile = packageFile(factoryPath, THREADED_BUILD.wasm);
  let address: number | null;
  let source: string;
  try {
    address = threadPoolPointerAddress(readFileSync(wasmFile));
    source = readFileSync(factoryPath, 'utf8');
  } catch {
    return null;
  }
  const { poolSize, noPool, waitForWorkers, loadInBackground } = THREADED_GLUE;
  if (address === null || source.split(poolSize).length !== 2 || source.split(waitForWorkers).length !== 2) return null;
  const patched = source.replace(poolSize, noPool).replace(waitForWorkers, loadInBackground);
  const dir = scratchDir(tempDir);
  const file = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  writeFileSync(file, patched);
  return { path: file, address };
}

/**
 * A folder for the patched glue and the worker script. In a run it is inside the run's private folder, which
 * whoever ends the run removes (the host, or the reaper when the host died): an 'exit' handler never runs when
 * the runner is killed (a timeout of a spinning script, a SIGKILL), and would leave them in the temp folder.
 * Elsewhere (tests, benchmarks) it is a temp folder removed as the process exits.
 */
function scratchDir(tempDir: string | undefined): string {
  if (tempDir) return mkdtempSync(path.join(tempDir, 'wasm-'));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tfjs-wasm-training-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Prepended to the pool worker script. Messages reach a worker in order, and it handles `load`
 * synchronously, so by the time it sees `{ wasmTrainingLoadedCell }` the module is instantiated.
 */
const LOADED_SIGNAL =
  "require('worker_threads').parentPort.on('message',(d)=>{if(d&&d.wasmTrainingLoadedCell)Atomics.store(new Int32Array(d.wasmTrainingLoadedCell),d.wasmTrainingIndex,1)});\n";

async function startThreadedModule(
  req: NodeJS.Require,
  factory: ThreadedFactory,
  factoryPath: string,
  workerSource: string,
  threads: number,
  startWithOneThread = false,
  tempDir?: string,
): Promise<EmscriptenModule> {
  // tfjs ships the worker as a JS string (escaped newlines restored, as its browser loader does).
  const workerDir = scratchDir(tempDir);
  const workerFile = path.join(workerDir, 'worker.js');
  // Lazily started pools need to know, without the main thread's event loop, when a worker has
  // loaded the module: each worker answers a message posted after `load` in a shared cell.
  writeFileSync(workerFile, (startWithOneThread ? LOADED_SIGNAL : '') + workerSource.replace(/\n/g, '\\n'));
  // The C++ sizes its pool as min(requested, cpus / 2) once, while the module starts; the
  // emscripten glue reads cpus from the os module object itself (not this file's import of it).
  const nodeOs = req('node:os') as { cpus: typeof os.cpus };
  const realCpus = nodeOs.cpus;
  const cpus = realCpus();
  nodeOs.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  let module: EmscriptenModule;
  try {
    module = await factory({ locateFile: (file) => (file.endsWith('.worker.js') ? workerFile : packageFile(factoryPath, file)) });
  } finally {
    nodeOs.cpus = realCpus;
  }
  const voidType = null;
  const initWithThreadsCount = module.cwrap('init_with_threads_count', voidType, ['number']);
  // BackendWasm's constructor makes the first pool; a lazily started module must make it of one
  // thread (its workers are still loading: a larger pool would wait for them forever).
  let first = startWithOneThread;
  module.tfjs = {
    init: module.cwrap('init', voidType, []),
    initWithThreadsCount: (n: number) => {
      const count = first ? 1 : n;
      first = false;
      return initWithThreadsCount(count);
    },
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', voidType, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', voidType, ['number']),
    dispose: module.cwrap('dispose', voidType, []),
  };
  return module;
}
