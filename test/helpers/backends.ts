import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunOptions } from '../../src/engine/run-script';
import { analyze, ROOT, RUNNER } from './run';

export type MatrixBackend = 'wasm' | 'tensorflow';

/**
 * The backends the runner scenario tests run on: our wasm, and the real @tensorflow/tfjs-node that
 * `npm run setup:tfjs-node` builds (the README's test command runs it). tensorflow is in by default, so a
 * missing or broken tfjs-node fails its rows loudly instead of hiding them. LOSS_LENS_TEST_BACKENDS=wasm narrows
 * the matrix for a developer who has not run the setup (it needs ~1 GB under .cache and a PyPI download).
 */
export const MATRIX_BACKENDS: MatrixBackend[] = (() => {
  const wanted = (process.env.LOSS_LENS_TEST_BACKENDS ?? 'wasm,tensorflow').split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of wanted) {
    if (b !== 'wasm' && b !== 'tensorflow') throw new Error(`LOSS_LENS_TEST_BACKENDS: unknown backend "${b}" (wasm, tensorflow)`);
  }
  if (wanted.length === 0) throw new Error('LOSS_LENS_TEST_BACKENDS names no backend');
  return wanted as MatrixBackend[];
})();

/** `analyze` with the row's backend as the default; a test that names a backend itself keeps it. */
export function analyzeOn(backend: MatrixBackend): typeof analyze {
  return (script, options = {}) => analyze(script, { backend, ...options } as Partial<RunOptions>);
}

/** Where Loss Lens's own tfjs-node is, when the setup has built it. */
export const OWN_TFJS_NODE = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');

/** The backend `--backend auto` picks for a script in this repository: Loss Lens's own tfjs-node once it is set up. */
export function autoBackendHere(): MatrixBackend {
  return fs.existsSync(path.join(OWN_TFJS_NODE, 'package.json')) ? 'tensorflow' : 'wasm';
}

/**
 * Loss Lens as installed without its optional tfjs-node (what a user gets where tfjs-node's install fails):
 * a copy of dist/ beside a node_modules that links every package of ours but tfjs-node, in the temp folder so
 * that no node_modules above it has one. Scripts for it must live in `dir` too, for the same reason.
 */
export function lossLensWithoutTfjsNode(): { dir: string; runner: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-without-tfjs-node-'));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, '@tensorflow'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  const ours = path.join(ROOT, 'node_modules');
  for (const entry of fs.readdirSync(ours)) {
    if (entry === '@tensorflow' || entry.startsWith('.')) continue;
    fs.symlinkSync(path.join(ours, entry), path.join(modules, entry));
  }
  for (const entry of fs.readdirSync(path.join(ours, '@tensorflow'))) {
    if (entry.startsWith('tfjs-node')) continue;
    fs.symlinkSync(path.join(ours, '@tensorflow', entry), path.join(modules, '@tensorflow', entry));
  }
  return { dir, runner: path.join(dir, 'dist', path.basename(RUNNER)) };
}

/**
 * A workspace with its own @tensorflow/tfjs-node: a second, real copy of the built package (its JavaScript and
 * addon copied, deps/ pointing at the same TensorFlow libraries), under .cache/ so its own requires
 * (@tensorflow/tfjs, node-pre-gyp) resolve as in a project that installed it.
 */
export function workspaceWithOwnTfjsNode(): string {
  fs.mkdirSync(path.join(ROOT, '.cache', 'test-workspaces'), { recursive: true });
  const ws = fs.mkdtempSync(path.join(ROOT, '.cache', 'test-workspaces', 'own-tfjs-node-'));
  const pkg = path.join(ws, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(pkg, { recursive: true });
  for (const entry of ['package.json', 'dist', 'lib']) fs.cpSync(path.join(OWN_TFJS_NODE, entry), path.join(pkg, entry), { recursive: true });
  fs.symlinkSync(fs.realpathSync(path.join(OWN_TFJS_NODE, 'deps')), path.join(pkg, 'deps'));
  return ws;
}
