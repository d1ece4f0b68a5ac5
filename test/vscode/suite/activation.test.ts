import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LossLensApi } from '../../../src/host/extension';

const EXTENSION_ID = 'loss-lens.loss-lens';

/**
 * Modules of ours that must not load at activation: the host (schemas, analysis, panel; loaded with the first command
 * or restored panel) and the engine (esbuild, child processes, the scan; loaded with the first run).
 */
const LAZY = /[\\/]dist[\\/](engine|host)\.js$/;

// Runs first (files load in name order): the extension is not active yet, so this is its cold activation.
describe('activation', () => {
  it('activates without loading the host or the engine, which load on first use (time recorded)', async () => {
    const ext = vscode.extensions.getExtension<LossLensApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    const wasActive = ext.isActive;
    // Let the window finish starting first: activating while the workbench still loads times VS Code's start-up
    // (in 15 paired runs the same build ranged 31–165 ms), not the extension.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const started = performance.now();
    const api = await ext.activate();
    const ms = performance.now() - started;
    assert.deepEqual(Object.keys(require.cache).filter((k) => LAZY.test(k)), [], 'nothing heavy loads at activation');
    // The API loads the host on first use; the engine still waits for a run.
    assert.ok(api.runs && api.decorations && api.panels, 'the API the other tests use');
    assert.deepEqual(
      Object.keys(require.cache).filter((k) => LAZY.test(k)).map((k) => path.basename(k)),
      ['host.js'],
      'the host loads on first use, the engine only with a run',
    );
    // For bench/activation.bench.mjs (no threshold here: timing belongs in benchmarks).
    const results = path.join(ext.extensionPath, 'test-results');
    fs.mkdirSync(results, { recursive: true });
    fs.writeFileSync(path.join(results, 'activation.json'), JSON.stringify({ ms, wasActive, node: process.version }));
  });
});
