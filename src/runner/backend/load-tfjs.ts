import { createRequire } from 'node:module';
import * as path from 'node:path';
// The functions, not the side-effect entry: the script's tfjs is loaded here (the user's or ours), then equipped.
import { installAdaptiveThreads, installWasmTrainingKernels, preferThreadedWasm } from 'tfjs-backend-wasm-training/api';
import type { BackendInfo } from '../../shared/protocol/run-data';
import type { BackendChoice } from '../../shared/protocol/runner-protocol';
import { cpuBackend, dataNamespace, type Tf } from '../tfjs-internals';
import { registerFileSystemIo } from './file-system-io';
import { restoreUtilForTfjsNode } from './node-util-compat';
import { wasmThreadPlan } from './wasm-thread-plan';
import { guardWasmAllocations } from '../wasm-memory';

export interface LoadedTfjs {
  tf: Tf;
  /** What the user's `import '@tensorflow/…'` statements receive: one instrumented instance for all. */
  modules: Record<string, unknown>;
  info: BackendInfo;
  notices: string[];
}

export class BackendUnavailableError extends Error {}

const NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

type Req = NodeJS.Require;

function tryResolve(req: Req, id: string): string | null {
  try {
    return req.resolve(id);
  } catch {
    return null;
  }
}

function packageVersion(req: Req, id: string): string {
  try {
    return (req(`${id}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Picks the tfjs the script runs on. The user's own install wins; else the copy shipped with
 * Loss Lens. `auto` prefers the native TensorFlow backend, then wasm (with the training kernels
 * stock wasm lacks), then cpu.
 */
export async function loadTfjs(
  scriptPath: string,
  choice: BackendChoice,
  onFallbackUsed: (kernelName: string) => void = () => {},
  /** Where the wasm backend's generated files go (the run's private folder); the system's temp folder by default. */
  tempDir?: string,
): Promise<LoadedTfjs> {
  const notices: string[] = [];
  const finish = (tf: Tf, req: Req, pkg: string, backend: string, source: 'user' | 'bundled', resolved: string) =>
    describeLoaded(tf, req, pkg, backend, source, resolved, notices, onFallbackUsed);
  const userReq = createRequire(path.resolve(scriptPath));
  const ownReq = createRequire(__filename);
  const ownTfjs = tryResolve(ownReq, '@tensorflow/tfjs');
  const isOwn = (p: string | null) => p !== null && ownTfjs !== null && path.dirname(p) === path.dirname(ownTfjs);

  if (choice === 'auto' || choice === 'tensorflow') {
    for (const [req, whose] of [
      [userReq, 'user'],
      [ownReq, 'bundled'],
    ] as const) {
      for (const pkg of NODE_PACKAGES) {
        const resolved = tryResolve(req, pkg);
        if (!resolved) continue;
        try {
          restoreUtilForTfjsNode();
          const tf = req(pkg) as Tf;
          await tf.setBackend('tensorflow');
          await tf.ready();
          // A script inside Loss Lens's own tree (its examples) resolves Loss Lens's tfjs-node: that is not the user's.
          const own = whose === 'bundled' || resolved === tryResolve(ownReq, pkg);
          return finish(tf, req, pkg, 'tensorflow', own ? 'bundled' : 'user', resolved);
        } catch (err) {
          notices.push(`${pkg} is installed but failed to load (${(err as Error).message.split('\n')[0]}).`);
        }
      }
    }
    if (choice === 'tensorflow') {
      throw new BackendUnavailableError(
        '--backend tensorflow needs @tensorflow/tfjs-node (or -gpu) installed in the script\'s workspace. ' +
          (notices[0] ?? 'It is not installed.'),
      );
    }
  }

  const userTfjs = tryResolve(userReq, '@tensorflow/tfjs');
  const userWasm = tryResolve(userReq, '@tensorflow/tfjs-backend-wasm');
  const userHasOwn = userTfjs !== null && !isOwn(userTfjs);

  if (choice === 'cpu') {
    const req = userHasOwn ? userReq : ownReq;
    const tf = req('@tensorflow/tfjs') as Tf;
    await tf.setBackend('cpu');
    cpuBackend(tf);
    return finish(tf, req, '@tensorflow/tfjs', 'cpu', userHasOwn ? 'user' : 'bundled', userTfjs ?? ownTfjs ?? '');
  }

  if (userHasOwn && !userWasm) {
    if (choice === 'auto') {
      notices.push(
        'Your workspace has @tensorflow/tfjs but neither @tensorflow/tfjs-node nor @tensorflow/tfjs-backend-wasm: ' +
          'running on its cpu backend, which is slow for convolutions. Install @tensorflow/tfjs-node, or pass --backend wasm.',
      );
      const tf = userReq('@tensorflow/tfjs') as Tf;
      await tf.setBackend('cpu');
      cpuBackend(tf);
      return finish(tf, userReq, '@tensorflow/tfjs', 'cpu', 'user', userTfjs);
    }
    notices.push('Your workspace has no @tensorflow/tfjs-backend-wasm: running on the tfjs that ships with Loss Lens.');
  }

  const useUser = userHasOwn && userWasm !== null;
  const req = useUser ? userReq : ownReq;
  const tf = req('@tensorflow/tfjs') as Tf;
  req('@tensorflow/tfjs-backend-wasm');
  const threads = wasmThreadPlan();
  preferThreadedWasm(tf, req, threads.threads, (reason) => {
    // Adaptive threads are only an optimization: say nothing when they cannot start.
    if (!threads.adaptive) notices.push(`Multithreaded wasm did not start (${reason.split('\n')[0]}): running on one thread.`);
  }, threads.adaptive, tempDir);
  if (!(await tf.setBackend('wasm'))) throw new BackendUnavailableError('the wasm backend failed to initialize');
  await tf.ready();
  if (choice === 'auto') {
    notices.push(
      `@tensorflow/tfjs-node is not installed: running on @tensorflow/tfjs ${packageVersion(req, '@tensorflow/tfjs')} ` +
        'with the wasm backend. Install @tensorflow/tfjs-node for native speed.',
    );
  }
  return finish(tf, req, '@tensorflow/tfjs', 'wasm', useUser ? 'user' : 'bundled', (useUser ? userTfjs : ownTfjs) ?? '');
}

function describeLoaded(
  tf: Tf,
  req: Req,
  pkg: string,
  backend: string,
  source: 'user' | 'bundled',
  resolvedPath: string,
  notices: string[],
  onFallbackUsed: (kernelName: string) => void,
): LoadedTfjs {
  let addedKernels: string[] = [];
  let fallbackKernels: string[] = [];
  if (backend === 'wasm') {
    ({ added: addedKernels, fallback: fallbackKernels } = installWasmTrainingKernels(tf, onFallbackUsed));
    installAdaptiveThreads(tf);
    guardWasmAllocations(tf);
  }
  // A script written for tfjs-node saves with file://; without tfjs-node, give it the same routers.
  if (!pkg.startsWith('@tensorflow/tfjs-node')) registerFileSystemIo(tf);
  const modules = moduleMap(tf, req, pkg);
  return {
    tf,
    modules,
    notices,
    info: {
      name: tf.getBackend(),
      tfjsVersion: packageVersion(req, pkg),
      tfjsSource: source,
      tfjsPath: packageRoot(resolvedPath),
      addedKernels,
      fallbackKernels,
    },
  };
}

function packageRoot(resolved: string): string {
  const marker = `${path.sep}node_modules${path.sep}`;
  const i = resolved.lastIndexOf(marker);
  if (i < 0) return resolved;
  const rest = resolved.slice(i + marker.length).split(path.sep);
  const depth = rest[0].startsWith('@') ? 2 : 1;
  return resolved.slice(0, i + marker.length) + rest.slice(0, depth).join(path.sep);
}

/** Every @tensorflow package a script may import, pointing at the single loaded instance. */
function moduleMap(tf: Tf, req: Req, pkg: string): Record<string, unknown> {
  const withNode = pkg.startsWith('@tensorflow/tfjs-node')
    ? tf
    : { ...ownProps(tf), node: missingNodeNamespace() };
  const optional = (id: string) => {
    try {
      return req(id);
    } catch {
      return undefined;
    }
  };
  return {
    '@tensorflow/tfjs': tf,
    '@tensorflow/tfjs-node': withNode,
    '@tensorflow/tfjs-node-gpu': withNode,
    '@tensorflow/tfjs-core': tf,
    '@tensorflow/tfjs-layers': tf,
    '@tensorflow/tfjs-converter': tf,
    '@tensorflow/tfjs-data': dataNamespace(tf),
    '@tensorflow/tfjs-backend-cpu': optional('@tensorflow/tfjs-backend-cpu') ?? {},
    '@tensorflow/tfjs-backend-wasm': optional('@tensorflow/tfjs-backend-wasm') ?? {},
  };
}

function ownProps(obj: object): Record<string, unknown> {
  return Object.defineProperties({}, Object.getOwnPropertyDescriptors(obj)) as Record<string, unknown>;
}

function missingNodeNamespace(): unknown {
  return new Proxy(
    {},
    {
      get(_t, prop) {
        throw new Error(
          `tf.node.${String(prop)} needs @tensorflow/tfjs-node, which is not installed here; ` +
            'Loss Lens is running the script on @tensorflow/tfjs instead.',
        );
      },
    },
  );
}
