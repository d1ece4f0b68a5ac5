import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The acceptance test: a user's project with stock @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm 4.22 and this
// package installed, a plain `node` ES module importing it by name, so what runs is the built dist/ as npm users get it.
const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
/** The node_modules that holds stock tfjs and (linked by npm workspaces) this package. */
const NODE_MODULES = path.resolve(path.dirname(require.resolve('@tensorflow/tfjs/package.json')), '../..');

/** conv2d → maxpool → conv2d → dense on random 32×32×3 images (seeded), three SGD steps; prints what happened. */
const TRAIN = `
const out = { backend: null, losses: [], finite: true, error: null, hasConv2DBackpropFilter: false };
try {
  await tf.setBackend('wasm');
  out.backend = tf.getBackend();
  out.hasConv2DBackpropFilter = tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined;
  const L = tf.layers;
  const model = tf.sequential({ layers: [
    L.conv2d({ inputShape: [32, 32, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    L.flatten(),
    L.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
  ] });
  const x = tf.randomUniform([16, 32, 32, 3], 0, 1, 'float32', 4);
  const y = tf.oneHot(tf.randomUniform([16], 0, 10, 'int32', 5), 10).toFloat();
  const optimizer = tf.train.sgd(0.1);
  for (let step = 0; step < 3; step++) {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x)));
    for (const g of Object.values(grads)) out.finite = out.finite && g.isFinite().all().dataSync()[0] === 1;
    out.losses.push(value.dataSync()[0]);
    optimizer.applyGradients(grads);
  }
} catch (err) {
  out.error = err.message;
}
console.log(JSON.stringify(out));
`;

interface Outcome {
  backend: string | null;
  losses: number[];
  finite: boolean;
  error: string | null;
  hasConv2DBackpropFilter: boolean;
  added?: string[];
}

let project: string;

beforeAll(() => {
  if (!existsSync(path.join(PACKAGE_DIR, 'dist/index.js'))) {
    throw new Error('tfjs-backend-wasm-training has no dist/: run `npm run build` (root) or `npm run build -w tfjs-backend-wasm-training` first');
  }
  project = mkdtempSync(path.join(os.tmpdir(), 'wasm-training-user-'));
  symlinkSync(NODE_MODULES, path.join(project, 'node_modules'), 'dir');
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

function runUserScript(name: string, withImport: boolean): Outcome {
  const file = path.join(project, name);
  const imports = withImport
    ? "import { installed } from 'tfjs-backend-wasm-training';\nconst added = installed.added;\n"
    : 'const added = undefined;\n';
  writeFileSync(
    file,
    "import * as tf from '@tensorflow/tfjs';\nimport '@tensorflow/tfjs-backend-wasm';\n" + imports + TRAIN.replace('console.log(JSON.stringify(out));', 'console.log(JSON.stringify({ ...out, added }));'),
  );
  const r = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', timeout: 110_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Outcome;
}

describe("import 'tfjs-backend-wasm-training' beside stock tfjs 4.22", () => {
  it('is stock @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm 4.22.0 that the user project has', () => {
    for (const pkg of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core']) {
      const { version } = JSON.parse(readFileSync(path.join(NODE_MODULES, pkg, 'package.json'), 'utf8')) as { version: string };
      expect(version, pkg).toBe('4.22.0');
    }
  });

  it('registers the kernels stock wasm lacks, and a CIFAR-like CNN then trains on wasm: the loss changes, the gradients are finite', () => {
    const run = runUserScript('with-import.mjs', true);
    expect(run.error).toBeNull();
    expect(run.backend).toBe('wasm');
    expect(run.hasConv2DBackpropFilter).toBe(true);
    expect(run.added).toEqual(expect.arrayContaining(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'UnsortedSegmentSum', 'MaxPoolGrad']));
    expect(run.losses).toHaveLength(3);
    for (const loss of run.losses) expect(Number.isFinite(loss), String(loss)).toBe(true);
    expect(run.losses[2]).not.toBe(run.losses[0]);
    expect(run.finite).toBe(true);
  });

  it('without the import, the same training throws: stock wasm has no Conv2DBackpropFilter', () => {
    const run = runUserScript('without-import.mjs', false);
    expect(run.backend).toBe('wasm');
    expect(run.hasConv2DBackpropFilter).toBe(false);
    expect(run.error).toBe("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'");
    expect(run.losses).toEqual([]);
  });
});

describe('the npm package', () => {
  it('holds the built entries, both SIMD binaries, the declarations and the README, and no sources or tests', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE_DIR, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/api.js', 'dist/index.d.ts', 'dist/api.d.ts', 'dist/wasm-training-simd.wasm', 'dist/wasm-training-simd-shared.wasm']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.map'))).toEqual([]);
  });
});
