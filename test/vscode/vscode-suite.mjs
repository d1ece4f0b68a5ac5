// Shared by both ways of running the extension-host suite: code-server (run-extension-tests.mjs) and
// @vscode/test-cli (.vscode-test.mjs, for machines that can download VS Code).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { makeWorkspace, ROOT } from '../../scripts/code-server.mjs';

/** Bundles test/vscode/suite/*.ts into out/vscode-suite/ (vscode and mocha stay external). */
export async function buildVscodeSuite() {
  const out = path.join(ROOT, 'out', 'vscode-suite');
  rmSync(out, { recursive: true, force: true });
  const suiteDir = path.join(ROOT, 'test', 'vscode', 'suite');
  await esbuild.build({
    entryPoints: readdirSync(suiteDir).filter((f) => f.endsWith('.ts')).map((f) => path.join(suiteDir, f)),
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'error',
  });
  return out;
}

/** A throwaway copy of the scripts the suite runs and edits (the quick fix rewrites one). */
export function makeSuiteWorkspace() {
  return makeWorkspace({
    'custom-loop-drops-penalty.ts': path.join(ROOT, 'examples/custom-loop-drops-penalty.ts'),
    'custom-loop-with-penalty.ts': path.join(ROOT, 'examples/custom-loop-with-penalty.ts'),
    'never-ends.ts': path.join(ROOT, 'test/fixtures/scripts/never-ends.ts'),
    'helpers/build-model.ts': path.join(ROOT, 'test/fixtures/scripts/helpers/build-model.ts'),
    'throws.ts': path.join(ROOT, 'test/fixtures/scripts/throws.ts'),
    'slow-steps.ts': path.join(ROOT, 'test/fixtures/scripts/slow-steps.ts'),
    'adam-l2-decay.ts': path.join(ROOT, 'examples/adam-l2-decay.ts'),
    'fit-cnn-with-decay.ts': path.join(ROOT, 'examples/fit-cnn-with-decay.ts'),
    'spawns-helpers.js': path.join(ROOT, 'test/fixtures/scripts/spawns-helpers.js'),
    'argparse-style.js': path.join(ROOT, 'test/fixtures/scripts/argparse-style.js'),
    'escapes-own-env.js': path.join(ROOT, 'test/fixtures/scripts/lifecycle/escapes-own-env.js'),
    'prints-env.js': path.join(ROOT, 'test/fixtures/scripts/lifecycle/prints-env.js'),
    'raises.py': path.join(ROOT, 'test/fixtures/python/raises.py'),
  });
}
