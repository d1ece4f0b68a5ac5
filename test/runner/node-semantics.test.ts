import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, fixtureScript, ROOT } from '../helpers/run';
import { runtimes } from '../helpers/runtimes';

/**
 * The script runs as `node script.js args…` would run it. The fixtures print what they see of their module
 * system ("facts"); a JavaScript entry must see exactly what it sees under plain node, on the CLI's Node and on
 * VS Code's Node 24. TypeScript has no plain-node reference, so its facts are spelled out.
 */
let project: string;

beforeAll(() => {
  // A project of its own outside the repository, with a package in node_modules that requires tfjs itself.
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'll-semantics-'));
  fs.cpSync(fixtureScript('node-semantics'), project, { recursive: true });
  fs.mkdirSync(path.join(project, 'node_modules', 'll-fixture-pkg'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@tensorflow'), path.join(project, 'node_modules', '@tensorflow'));
  fs.writeFileSync(path.join(project, 'node_modules', 'll-fixture-pkg', 'index.js'), "module.exports = { tf: require('@tensorflow/tfjs') };\n");
  fs.mkdirSync(path.join(project, 'linked-target'));
  fs.writeFileSync(path.join(project, 'linked-target', 'index.js'), 'module.exports = 1;\n');
  fs.symlinkSync(path.join(project, 'linked-target'), path.join(project, 'node_modules', 'll-linked'));
});

afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

function factsOf(output: string): Record<string, unknown> {
  const line = output.split('\n').find((l) => l.startsWith('facts '));
  if (!line) throw new Error(`no facts in the output:\n${output.slice(-2000)}`);
  return JSON.parse(line.slice('facts '.length)) as Record<string, unknown>;
}

/** The same file under the plain runtime, started the way the host starts the runner. */
function plainNode(node: string, entry: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(node, [entry, ...args], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return factsOf(r.stdout);
}

const ARGS = ['positional', '--epochs', '3', '--flag', '--', 'after-dashes'];

describe.each(runtimes())('on %s', (_name, node) => {
  const run = (entry: string, args = ARGS) => analyze(path.join(project, entry), { nodePath: node, cwd: project, args, steps: 5 });

  it('a CommonJS entry: require.main, argv, __dirname, JSON, createRequire, import(), require(esm), sloppy `this`, one tfjs', async () => {
    const { report, output } = await run('cjs-entry.js');
    expect(report.status).toBe('completed');
    const facts = factsOf(output);
    expect(facts).toEqual(plainNode(node, 'cjs-entry.js', ARGS));
    expect(facts).toMatchObject({ isMain: true, mainIsMe: true, argv1: true, args: ARGS, execArgv: [], sameTf: true, fromPackage: true, linked: 'linked-target', dynamicTf: true, esmSeesSameTf: true, requiredEsm: true });
  });

  it('an ES module entry: the argv[1] guard, import.meta, JSON imports, createRequire, a CommonJS helper, one tfjs', async () => {
    const { report, output } = await run('esm-entry.mjs');
    expect(report.status).toBe('completed');
    const facts = factsOf(output);
    expect(facts).toEqual(plainNode(node, 'esm-entry.mjs', ARGS));
    expect(facts).toMatchObject({ argvGuard: true, args: ARGS, namespace: true, requireTf: true, cjsHelperTf: true, cjsHelperMain: true, dynamic: true, strict: true });
  });

  it('TypeScript with top-level await is an ES module: the import.meta guard holds, extensionless and .js imports find .ts', async () => {
    const { report, output } = await run('ts-esm-entry.ts');
    expect(report.status).toBe('completed');
    expect(report.steps).toBe(1);
    expect(factsOf(output)).toEqual({ argvGuard: true, args: ARGS, helpers: 7, dirname: path.basename(project), filename: 'ts-esm-entry.ts', require: 'function' });
  });

  it('TypeScript written for ts-node is CommonJS: require.main === module, import = require(), JSON', async () => {
    const { report, output } = await run('ts-cjs-entry.ts');
    expect(report.status).toBe('completed');
    expect(factsOf(output)).toEqual({ isMain: true, argv1: true, args: ARGS, helpers: 42, dirname: path.basename(project), json: 3, zipLike: 'function' });
  });

  it('tsconfig paths and baseUrl (from an extended JSONC config): import, require(), import() and createRequire of aliases', async () => {
    const net = path.join(project, 'ts-paths', 'src', 'models', 'net.ts');
    for (const [entry, facts] of [
      ['ts-paths/train.ts', { isMain: true, scaled: 2, rows: 4 }],
      ['ts-paths/train.mts', { scaled: 2, rows: 4, l2: 0.001 }],
    ] as const) {
      const { report, output } = await run(entry, []);
      expect(report.status, entry).toBe('completed');
      expect(factsOf(output), entry).toEqual(facts);
      expect(report.steps, entry).toBe(3);
      // The layers are built in the aliased module: its own file and lines.
      expect(report.layers.map((l) => [l.source?.file, l.source?.line]), entry).toEqual([
        [net, 7],
        [net, 8],
      ]);
      expect(report.terms.filter((t) => t.collection === 'regularization').every((t) => t.reachesMinimizedLoss), entry).toBe(true);
    }
  });

  it('.mts is an ES module and .cts CommonJS', async () => {
    expect(factsOf((await run('mts-entry.mts')).output)).toEqual({ argvGuard: true, args: ARGS });
    expect(factsOf((await run('cts-entry.cts')).output)).toEqual({ isMain: true, args: ARGS });
  });

  it('main-module guards train: CommonJS require.main === module, ESM argv[1] === fileURLToPath(import.meta.url)', async () => {
    for (const script of ['cjs-main-guard.js', 'esm-main-guard.mjs']) {
      const { report, output } = await analyze(fixtureScript(script), { nodePath: node });
      expect(output, script).toContain('trained as main module');
      expect(report.steps, script).toBeGreaterThan(0);
      expect(report.layers.map((l) => l.source?.file), script).toEqual([fixtureScript(script), fixtureScript(script)]);
    }
    const cjs = await analyze(fixtureScript('cjs-main-guard.js'), { nodePath: node });
    expect(cjs.report.findings.filter((f) => f.ruleId === 'regularizer-not-in-loss')).toHaveLength(2);
  });

  it('sloppy-mode CommonJS stays sloppy: implicit globals, with, legacy octals, top-level this', async () => {
    const { report, output } = await analyze(fixtureScript('sloppy-mode.js'), { nodePath: node });
    expect(report.status).toBe('completed');
    expect(output).toContain('sloppy: count=8 globalThis.count=8 topThis=true lr=0.01');
    expect(report.steps).toBe(8);
  });

  it('JavaScript written for babel-node (import syntax with require.main and extensionless imports) runs as CommonJS, and says so', async () => {
    const { report, output } = await analyze(fixtureScript('babel-style.js'), { nodePath: node });
    expect(output).toContain('babel-style trained in scripts');
    expect(report.steps).toBe(3);
    expect(report.layers.map((l) => [l.source?.file, l.source?.line])).toEqual([
      [fixtureScript('helpers/babel-helper.js'), 4],
      [fixtureScript('helpers/babel-helper.js'), 5],
    ]);
    expect(report.notices[0]).toBe(
      // The helper is plain ES module syntax, but babel-node compiles every file of the project: so do we.
      'Ran babel-style.js, helpers/babel-helper.js as CommonJS, the way Babel or ts-node run it: they mix ES import syntax with require/module/__dirname ' +
        'or with imports that leave out the file extension, which plain node cannot run.',
    );
    // A genuine ES module is left to Node: no such notice.
    const esm = await analyze(fixtureScript('esm-main-guard.mjs'), { nodePath: node });
    expect(esm.report.notices.some((n) => n.startsWith('Ran '))).toBe(false);
  });

  it('an argparse-style script gets its arguments', async () => {
    const args = ['--epochs', '3', '--units', '4', '--label', 'two words'];
    const { report, output, state } = await analyze(fixtureScript('argparse-style.js'), { nodePath: node, args });
    expect(output).toContain(`args: ${JSON.stringify(args)}`);
    expect(output).toContain('trained 3 epochs (two words)');
    expect(report.steps).toBe(3);
    expect(state.args).toEqual(args);
  });
});
