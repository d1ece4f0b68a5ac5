import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LossLensApi } from '../../../src/host/extension';

const EXTENSION_ID = 'loss-lens.loss-lens';

/** Modules of ours that must not load until a run starts: the engine (esbuild, child processes, the scan). */
const LAZY = /[\\/]dist[\\/]engine\.js$/;

// Runs first (files load in name order): the extension is not active yet, so this is its cold activation.
describe('activation', () => {
  it('activates with the panel, notes and Problems ready, and without loading the engine (time recorded)', async () => {
    const ext = vscode.extensions.getExtension<LossLensApi>(EXTENSION_ID);
    assert.ok(ext, 'the extension is installed');
    const wasActive = ext.isActive;
    const started = performance.now();
    const api = await ext.activate();
    const ms = performance.now() - started;
    assert.ok(api.runs && api.decorations && api.panels, 'the API the other tests use');
    assert.deepEqual(Object.keys(require.cache).filter((k) => LAZY.test(k)), [], 'the engine loads with the first run, not at activation');
    // For bench/activation.bench.mjs (no threshold here: timing belongs in benchmarks).
    const results = path.join(ext.extensionPath, 'test-results');
    fs.mkdirSync(results, { recursive: true });
    fs.writeFileSync(path.join(results, 'activation.json'), JSON.stringify({ ms, wasActive, node: process.version }));
  });
});
