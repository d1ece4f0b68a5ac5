import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportSchema } from '../../src/shared/analysis/report';
import { ROOT } from '../helpers/run';
import { PYTHON_RUNNER_FILES } from '../helpers/python';

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The CLI as users get it: `npm pack`, then `npm install ./loss-lens-<version>.tgz` in an empty project. */
describe('the CLI as an npm package', () => {
  let project: string;
  let files: string[];
  beforeAll(() => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'll-pack-'));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', out], ROOT))[0] as { filename: string; files: Array<{ path: string }> };
    files = packed.files.map((f) => f.path);
    project = path.join(out, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'a-user-project', version: '1.0.0', private: true }));
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(out, packed.filename)], project);
    fs.writeFileSync(
      path.join(project, 'train.ts'),
      [
        "import * as tf from '@tensorflow/tfjs';",
        'const model = tf.sequential();',
        'model.add(tf.layers.dense({ inputShape: [4], units: 3, kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }) }));',
        'const opt = tf.train.sgd(0.1);',
        'const x = tf.randomNormal([8, 4]);',
        'const y = tf.randomNormal([8, 3]);',
        'for (let i = 0; i < 5; i++) opt.minimize(() => tf.losses.meanSquaredError(y, model.predict(x) as tf.Tensor));',
        '',
      ].join('\n'),
    );
  }, 600_000);

  it('holds the built CLI and runner, and no source, test, bench or fixture file', () => {
    expect(files).toEqual(expect.arrayContaining(['bin/loss-lens.js', 'dist/cli.js', 'dist/runner.js', 'package.json', 'README.md', 'LICENSE', 'schema/runner-events.schema.json']));
    // The Python runner is shipped as its sources (src/python), without compiled __pycache__.
    expect(files).toEqual(expect.arrayContaining(PYTHON_RUNNER_FILES));
    expect(files.filter((f) => f.startsWith('src/python/') && !f.endsWith('.py'))).toEqual([]);
    expect(files.filter((f) => /^(src|test|bench|scripts|examples|docs|\.ci)\/|^dist\/(harness|webview)\/|\.ts$/.test(f) && !f.startsWith('src/python/'))).toEqual([]);
  });

  it('`npx loss-lens analyze train.ts` works there with only its runtime dependencies', () => {
    expect(fs.existsSync(path.join(project, 'node_modules', 'typescript'))).toBe(false);
    expect(fs.existsSync(path.join(project, 'node_modules', 'vitest'))).toBe(false);
    const r = spawnSync('npx', ['loss-lens', 'analyze', 'train.ts', '--json', '--steps', '3'], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(1);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report).toMatchObject({ status: 'step-limit', steps: 3, backend: { name: 'wasm' } });
    expect(report.findings.map((f) => [f.ruleId, f.source?.line])).toEqual([['regularizer-not-in-loss', 3]]);
    expect(report.script).toBe(path.join(project, 'train.ts'));
  });
});
