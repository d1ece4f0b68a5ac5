#!/usr/bin/env node
// The extension-host test suite (mocha, inside a real VS Code): code-server + headless chromium,
// through VS Code's extensionDevelopmentPath / extensionTestsPath contract.
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, startCodeServer } from '../../scripts/code-server.mjs';
import { buildVscodeSuite, makeSuiteWorkspace } from './vscode-suite.mjs';

const out = await buildVscodeSuite();
const workspace = makeSuiteWorkspace();
const results = path.join(ROOT, 'test-results');
mkdirSync(results, { recursive: true });
const logFile = path.join(results, 'vscode-suite.log');
writeFileSync(logFile, '');
// A second Node for lossLens.nodePath (tensorflow-backend.test.ts): the one running this launcher, Node 20 here,
// while code-server's extension host runs Node 24. code-server and so the extension host inherit this environment.
process.env.LOSS_LENS_SUITE_NODE ??= process.execPath;
// The interpreter python.test.ts names in lossLens.pythonPath: the project venv (npm run setup:python).
process.env.LOSS_LENS_SUITE_PYTHON ??= path.join(ROOT, '.cache', 'python-venv', 'bin', 'python');
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
