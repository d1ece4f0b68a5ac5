#!/usr/bin/env node
// The extension-host test suite (mocha, inside a real VS Code): code-server + headless chromium,
// through VS Code's extensionDevelopmentPath / extensionTestsPath contract.
import * as esbuild from 'esbuild';
import { appendFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, makeWorkspace, ROOT, startCodeServer } from '../../scripts/code-server.mjs';

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

const workspace = makeWorkspace({
  'custom-loop-drops-penalty.ts': path.join(ROOT, 'examples/custom-loop-drops-penalty.ts'),
  'custom-loop-with-penalty.ts': path.join(ROOT, 'examples/custom-loop-with-penalty.ts'),
  'never-ends.ts': path.join(ROOT, 'test/fixtures/scripts/never-ends.ts'),
  'helpers/build-model.ts': path.join(ROOT, 'test/fixtures/scripts/helpers/build-model.ts'),
  'throws.ts': path.join(ROOT, 'test/fixtures/scripts/throws.ts'),
  'slow-steps.ts': path.join(ROOT, 'test/fixtures/scripts/slow-steps.ts'),
});
const results = path.join(ROOT, 'test-results');
mkdirSync(results, { recursive: true });
const logFile = path.join(results, 'vscode-suite.log');
writeFileSync(logFile, '');
const server = await startCodeServer({ folder: workspace });
const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
const payload = JSON.stringify([
  ['extensionDevelopmentPath', remote(ROOT)],
  ['extensionTestsPath', remote(path.join(out, 'index.js'))],
]);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
let code = 1;
try {
  const page = await browser.newPage();
  const exited = new Promise((resolve) => page.exposeFunction('codeAutomationExit', (c) => resolve(c)));
  // The workbench logs everything here; keep it all in a file and show only the test reporter's lines.
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = format(...(Array.isArray(args) ? args : [args]));
    appendFileSync(logFile, `${text}\n`);
    if (text.trim() && !/^\[|^\s+at |getaddrinfo|No signed-in session/.test(text)) process.stdout.write(`${text}\n`);
  });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 10 * 60_000));
  const result = await Promise.race([exited, timeout]);
  if (result === 'timeout') {
    process.stderr.write('extension tests timed out after 10 minutes\n');
    await page.screenshot({ path: path.join(results, 'vscode-suite-timeout.png') }).catch(() => {});
    process.stderr.write(server.output().slice(-3000));
  } else {
    code = Number(result);
  }
} finally {
  await browser.close();
  server.stop();
  rmSync(workspace, { recursive: true, force: true });
}
process.exit(code);
