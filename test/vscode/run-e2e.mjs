#!/usr/bin/env node
// End-to-end in the real UI, as a user would: the packaged VSIX installed into code-server, the command run
// from the palette, the notes read from the editor DOM, screenshots saved in test-results/. Also checks that
// an untrusted workspace (Restricted Mode) does not offer the command at all.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, installVsix, makeWorkspace, ROOT, startCodeServer } from '../../scripts/code-server.mjs';
import { packageVsix } from '../../scripts/package-vsix.mjs';

const results = path.join(ROOT, 'test-results');
mkdirSync(results, { recursive: true });
const [vsix] = packageVsix();
const extensionsDir = mkdtempSync(path.join(os.tmpdir(), 'll-ext-'));
installVsix(vsix, extensionsDir);

const workspace = makeWorkspace({
  'custom-loop-drops-penalty.ts': path.join(ROOT, 'examples/custom-loop-drops-penalty.ts'),
  'custom-loop-with-penalty.ts': path.join(ROOT, 'examples/custom-loop-with-penalty.ts'),
});
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
const step = (m) => process.stdout.write(`  e2e: ${m}\n`);

async function openWorkbench(server) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
  await page.waitForTimeout(1500);
  return page;
}

async function quickOpen(page, fileName) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill(fileName);
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator(`.tab.active[data-resource-name="${fileName}"]`).waitFor();
}

async function paletteRows(page, text) {
  await page.keyboard.press('Control+Shift+P');
  await page.locator('.quick-input-widget input').fill(`>${text}`);
  await page.waitForTimeout(700);
  return page.locator('.quick-input-list .monaco-list-row', { hasText: text });
}

/**
 * The panel's own marks (epoch ms, see PanelMarks in src/webview/panel-timing.ts) from the webview two iframes deep,
 * once its first graph is drawn: a panel opened after `since`.
 */
async function panelMarks(page, since) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const marks = await frame.evaluate(() => window.lossLens?.marks ?? null).catch(() => null);
      if (marks && marks.firstHydrate !== null && marks.firstHydrate >= since && marks.firstGraph !== null) return marks;
    }
    await page.waitForTimeout(100);
  }
  throw new Error('no panel drew a graph');
}

/** Command → first paint of the panel, and → its first graph drawn; the run's own time to its first step beside. */
function timing(kind, t0, marks) {
  return {
    kind,
    firstPaintMs: Math.round(marks.firstContentfulPaint - t0),
    firstGraphMs: Math.round(marks.firstGraph - t0),
    firstStepMs: marks.firstStepWallMs === null ? null : Math.round(marks.firstStepWallMs),
    // Where the time went: VS Code creating the webview, the page to its first paint, the host's first hydrate.
    webviewCreatedMs: Math.round(marks.navigationStart - t0),
    pageToPaintMs: Math.round(marks.firstContentfulPaint - marks.navigationStart),
    scriptStartMs: Math.round(marks.scriptStart - marks.navigationStart),
    hydrateMs: Math.round(marks.firstHydrate - t0),
    graphEventMs: Math.round(marks.firstGraphEvent - t0),
    graphDrawnAfterEventMs: Math.round(marks.firstGraph - marks.firstGraphEvent),
  };
}

const timings = [];
let failed = false;
try {
  // 1. Trusted workspace, packaged extension: palette → command → notes and Problems.
  const server = await startCodeServer({ folder: workspace, extensionsDir });
  try {
    const page = await openWorkbench(server);
    await quickOpen(page, 'custom-loop-drops-penalty.ts');
    const rows = await paletteRows(page, 'Loss Lens: Visualize Loss Graph');
    // Cold: the first run of a fresh window (the extension activates, the engine loads, tfjs starts).
    const coldStart = Date.now();
    await rows.first().click();
    step('command started from the palette');
    await page.locator('.statusbar-item', { hasText: /Loss Lens: \d+ steps/ }).waitFor({ timeout: 120_000 });
    const status = await page.locator('.statusbar-item', { hasText: 'Loss Lens:' }).first().innerText();
    assert.match(status, /20 steps · 3 errors/);
    // After-text decorations are spans in the view lines whose text is CSS ::after content.
    const notes = () =>
      page
        .locator('.editor-instance .monaco-editor .view-lines')
        .first()
        .evaluate((root) =>
          [...root.querySelectorAll('span[class*="ced-"]')]
            .map((el) => getComputedStyle(el, '::after').content)
            .filter((c) => c && c !== 'none')
            .map((c) => c.replace(/^"|"$/g, '').replace(/\u00a0/g, ' ')),
        );
    const note = '⚠ L2 1e-3 never reaches the minimized loss';
    for (let i = 0; i < 50 && !(await notes()).includes(note); i++) await page.waitForTimeout(200);
    assert.deepEqual(await notes(), [note, note, note], 'one note per layer line');
    step('three layer notes are in the editor DOM');
    // The panel: the webview's own document, two iframes deep.
    const panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await panel.locator('g.ll-node').first().waitFor({ timeout: 30_000 });
    const unreached = panel.locator('g.ll-node.unreached', { hasText: 'L2 1e-3' });
    assert.equal(await unreached.count(), 3, 'three penalty terms drawn as not reaching the minimized loss');
    await panel.getByText('not in minimized loss').first().waitFor();
    assert.ok((await panel.locator('.ll-findings').innerText()).includes('regularizer-not-in-loss'));
    step('the panel draws the three unreached penalties and lists the findings');
    timings.push(timing('cold', coldStart, await panelMarks(page, coldStart)));
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'regularizer-not-in-loss' }).first().waitFor();
    await page.screenshot({ path: path.join(results, 'e2e-vscode-drops-penalty.png') });
    step('screenshot: test-results/e2e-vscode-drops-penalty.png');
    // A window reload starts a new extension host: the serializer restores the panel from the saved run.
    // Reload the way a user does, so the workbench saves its editors first.
    await (await paletteRows(page, 'Developer: Reload Window')).first().click();
    await page.waitForEvent('load', { timeout: 60_000 });
    await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 60_000 });
    const restored = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await restored.locator('g.ll-node').first().waitFor({ timeout: 60_000 });
    assert.equal(await restored.locator('g.ll-node.unreached', { hasText: 'L2 1e-3' }).count(), 3);
    for (let i = 0; i < 50 && (await notes()).length < 3; i++) await page.waitForTimeout(200);
    assert.deepEqual(await notes(), [note, note, note], 'the notes come back with the panel');
    step('after a window reload the panel is restored with the same graph, and the notes with it');
    // Warm: the panel closed and the command run again in the same window, three times.
    for (let i = 0; i < 3; i++) {
      await quickOpen(page, 'custom-loop-drops-penalty.ts');
      await (await paletteRows(page, 'View: Close Editors in Other Groups')).first().click();
      await page.locator('.tab', { hasText: 'Loss Lens:' }).waitFor({ state: 'detached' });
      await quickOpen(page, 'custom-loop-drops-penalty.ts');
      const visualize = (await paletteRows(page, 'Loss Lens: Visualize Loss Graph')).first();
      const t0 = Date.now();
      await visualize.click();
      timings.push(timing('warm', t0, await panelMarks(page, t0)));
      await page.locator('.statusbar-item', { hasText: /Loss Lens: \d+ steps/ }).waitFor({ timeout: 120_000 });
    }
    step(`timings (ms, command to first paint / first graph / the run's first step): ${timings.map((t) => `${t.kind} ${t.firstPaintMs}/${t.firstGraphMs}/${t.firstStepMs}`).join(', ')}`);
    writeFileSync(path.join(results, 'e2e-timings.json'), JSON.stringify({ date: new Date().toISOString(), timings }, null, 2));
  } finally {
    server.stop();
  }

  // 2. Restricted Mode: the extension does not run, so its command is not offered.
  const restricted = await startCodeServer({ folder: workspace, extensionsDir, trust: false, smokeTestDriver: false });
  try {
    const page = await openWorkbench(restricted);
    await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).waitFor({ timeout: 30_000 });
    const rows = await paletteRows(page, 'Loss Lens: Visualize Loss Graph');
    assert.equal(await rows.count(), 0, 'no Loss Lens command in Restricted Mode');
    await page.screenshot({ path: path.join(results, 'e2e-vscode-restricted.png') });
    step('Restricted Mode offers no Loss Lens command');
  } finally {
    restricted.stop();
  }
} catch (err) {
  failed = true;
  process.stderr.write(`e2e failed: ${err.stack ?? err}\n`);
  for (const page of browser.contexts().flatMap((c) => c.pages())) {
    await page.screenshot({ path: path.join(results, `e2e-failure-${Date.now()}.png`) }).catch(() => {});
  }
} finally {
  await browser.close();
  rmSync(workspace, { recursive: true, force: true });
  rmSync(extensionsDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
