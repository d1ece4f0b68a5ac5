#!/usr/bin/env node
// Renders media/icon.svg to media/icon.png (128×128, the size the Marketplace and the extension view show) in
// headless Chromium, so the PNG is always made from the committed SVG: `node scripts/render-media.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from './package-vsix.mjs';

const flags = JSON.parse(readFileSync(path.join(ROOT, 'scripts', 'chromium.json'), 'utf8'));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: flags.args ?? flags });
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 }, deviceScaleFactor: 1 });
  const svg = readFileSync(path.join(ROOT, 'media', 'icon.svg'), 'utf8');
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  const png = await page.locator('svg').screenshot({ omitBackground: true });
  writeFileSync(path.join(ROOT, 'media', 'icon.png'), png);
  process.stdout.write('media/icon.png\n');
} finally {
  await browser.close();
}
