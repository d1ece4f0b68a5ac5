#!/usr/bin/env node
// The README's pictures of the panel: docs/panel-<stream>.<theme>.png, from the harness (the real panel page,
// VS Code's default light and dark theme colours). `npm run build`, then `node test/webview/readme-screenshots.mjs`.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const { createHarnessResolver, HARNESS_ORIGIN } = require(path.join(root, 'dist/harness/server.cjs'));
const chromiumConfig = require(path.join(root, 'scripts/chromium.json'));
// A panel beside the editor on a 1920×1080 screen; the deep model in a wide window, folded to fit (issue 21).
const BESIDE = { width: 900, height: 1240 };
const SHOTS = [
  { stream: 'custom-loop-drops-penalty', theme: 'light', viewport: BESIDE },
  { stream: 'custom-loop-drops-penalty', theme: 'dark', viewport: BESIDE },
  { stream: 'deep-residual', theme: 'light', viewport: { width: 1400, height: 900 } },
  // A Python run (issue 23): TF1, seed 002's 'losses' collection summed and never minimized.
  { stream: 'python-seed002-cifar10-sum', theme: 'dark', viewport: BESIDE },
];

const userDataDir = mkdtempSync(path.join(tmpdir(), 'loss-lens-docs-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: chromiumConfig.path,
  headless: true,
  args: chromiumConfig.args,
  // At 2× for sharp text.
  viewport: BESIDE,
  deviceScaleFactor: 2,
});
const resolve = createHarnessResolver(root);
await context.route('**/*', async (route) => {
  const url = new URL(route.request().url());
  if (url.origin !== HARNESS_ORIGIN) return route.abort();
  const r = resolve(url.pathname + url.search);
  await route.fulfill({ status: r.status, contentType: r.contentType, body: r.body });
});
for (const { stream, theme, viewport } of SHOTS) {
  // A new tab each time: its own sessionStorage, so no saved zoom from the shot before.
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  await page.goto(`${HARNESS_ORIGIN}/?autoload=0&theme=${theme}`);
  await page.waitForFunction(() => window.harness && document.querySelector('iframe')?.contentWindow?.lossLens);
  await page.evaluate((s) => window.harness.loadStream(s, { speed: 0 }), stream);
  const frame = page.frames().find((f) => f.url() !== 'about:blank' && new URL(f.url()).pathname === '/panel.html');
  await frame.waitForFunction(() => document.querySelector('.ll-graph')?.getAttribute('aria-busy') === 'false' && document.querySelectorAll('g.ll-node').length > 0);
  await page.waitForTimeout(500);
  const file = path.join(root, 'docs', `panel-${stream}.${theme}.png`);
  await (await page.$('iframe')).screenshot({ path: file });
  console.log(`wrote ${path.relative(root, file)}`);
  await page.close();
}
await context.close();
rmSync(userDataDir, { recursive: true, force: true });
