import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { engineOf, type Tf } from '../tfjs-internals';

const PACKAGE = '@tensorflow/tfjs-backend-wasm';
const THREADED_JS = `${PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
const THREADED_WORKER = `${PACKAGE}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`;

/**
 * Threads for XNNPACK: LOSS_LENS_WASM_THREADS (2–8), else 1. On 2 cores a second thread made
 * the CIFAR-10 CNN 1.4× faster but the text model 1.2× slower, and a short Loss Lens run of a
 * small CNN slower too (start-up +0.1 s, small ops pay the pool's wake-ups): see bench/RESULTS.md.
 */
export function wasmThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const asked = Number(env.LOSS_LENS_WASM_THREADS);
  return env.LOSS_LENS_WASM_THREADS && Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 8) : 1;
}

interface EmscriptenModule {
  cwrap(name: string, returnType: string | null, argTypes: string[]): (...args: number[]) => number;
  PThread?: { runningWorkers: Array<{ unref(): void }> };
  tfjs?: Record<string, unknown>;
}

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
  threads = wasmThreadCount(),
  onFailure: (reason: string) => void = () => {},
): boolean {
  if (threads < 2 || typeof SharedArrayBuffer === 'undefined') return false;
  let factoryPath: string;
  let workerSource: string;
  let BackendWasm: new (module: EmscriptenModule) => unknown;
  try {
    factoryPath = req.resolve(THREADED_JS);
    workerSource = (req(THREADED_WORKER) as { wasmWorkerContents: string }).wasmWorkerContents;
    BackendWasm = (req(PACKAGE) as { BackendWasm: typeof BackendWasm }).BackendWasm;
  } catch {
    return false;
  }
  const stock = tf.findBackendFactory('wasm');
  // Too late once a wasm backend exists (findBackend would start one, so look at the registry).
  const started = engineOf(tf).registry.wasm;
  if (!stock || started || typeof workerSource !== 'string' || typeof BackendWasm !== 'function') return false;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) throw new Error('this Node has no wasm SIMD');
        const module = await startThreadedModule(req, req(factoryPath) as ThreadedFactory, factoryPath, workerSource, threads);
        const backend = new BackendWasm(module);
        // Idle pool threads must not keep the script's process alive after it finishes.
        for (const worker of module.PThread?.runningWorkers ?? []) worker.unref();
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

async function startThreadedModule(
  req: NodeJS.Require,
  factory: ThreadedFactory,
  factoryPath: string,
  workerSource: string,
  threads: number,
): Promise<EmscriptenModule> {
  // tfjs ships the worker as a JS string (escaped newlines restored, as its browser loader does).
  const workerDir = mkdtempSync(path.join(os.tmpdir(), 'loss-lens-wasm-'));
  process.once('exit', () => rmSync(workerDir, { recursive: true, force: true }));
  const workerFile = path.join(workerDir, 'worker.js');
  writeFileSync(workerFile, workerSource.replace(/\n/g, '\\n'));
  const dir = path.dirname(factoryPath);
  // The C++ sizes its pool as min(requested, cpus / 2) once, while the module starts; the
  // emscripten glue reads cpus from the os module object itself (not this file's import of it).
  const nodeOs = req('node:os') as { cpus: typeof os.cpus };
  const realCpus = nodeOs.cpus;
  const cpus = realCpus();
  nodeOs.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  let module: EmscriptenModule;
  try {
    module = await factory({ locateFile: (file) => (file.endsWith('.worker.js') ? workerFile : path.join(dir, file)) });
  } finally {
    nodeOs.cpus = realCpus;
  }
  const voidType = null;
  module.tfjs = {
    init: module.cwrap('init', voidType, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', voidType, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', voidType, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', voidType, ['number']),
    dispose: module.cwrap('dispose', voidType, []),
  };
  return module;
}
