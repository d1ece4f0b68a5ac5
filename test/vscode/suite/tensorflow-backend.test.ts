import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LossLensApi } from '../../../src/host/extension';

// Issue 19: the CNN example on the real @tensorflow/tfjs-node (built by `npm run setup:tfjs-node`), from inside
// VS Code. Its addon is N-API, so the same build must load under the extension host's Node (24 in code-server)
// and under the Node that lossLens.nodePath names (the Node 20 that runs this suite's launcher).

const EXTENSION_ID = 'loss-lens.loss-lens';
const SCRIPT = 'fit-cnn-with-decay.ts';
const STEPS = 6;
const script = () => path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, SCRIPT);

async function api(): Promise<LossLensApi> {
  const ext = vscode.extensions.getExtension<LossLensApi>(EXTENSION_ID);
  assert.ok(ext, 'the extension is installed');
  return ext.activate();
}

const major = (version: string) => Number(/^v?(\d+)/.exec(version)![1]);

/**
 * Runs the CNN example with the command, as a user does. Records the Node binary its runner process really is
 * (from /proc while it runs) and every hydrate the panel's webview is sent: the webview header renders its
 * "<backend> · tfjs <version>" from the run state those carry.
 */
async function runCnn() {
  const { runs, panels } = await api();
  const doc = await vscode.workspace.openTextDocument(script());
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('lossLens.visualize');
  const run = runs.get(script());
  assert.ok(run, 'the command started a run');
  const p = panels.panelFor(script());
  assert.ok(p, 'the command opened the panel');
  // Observe what reaches the real webview (the messages still go through): the run's end sends a hydrate.
  const hydrated: { run: { backend: { name: string; tfjsVersion: string } | null; status: string } }[] = [];
  const webview = p.panel.webview;
  const original = webview.postMessage;
  webview.postMessage = (m: unknown) => {
    if ((m as { type?: string }).type === 'hydrate') hydrated.push(m as (typeof hydrated)[number]);
    return original.call(webview, m);
  };
  try {
    for (let i = 0; i < 400 && run.pid === undefined; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(run.pid, 'the runner started');
    const exe = fs.readlinkSync(`/proc/${run.pid}/exe`);
    const done = await runs.whenDone(script());
    assert.ok(done);
    for (let i = 0; i < 200 && !hydrated.some((h) => h.run.status !== 'running'); i++) await new Promise((r) => setTimeout(r, 50));
    return { run: done, exe, hydrated };
  } finally {
    webview.postMessage = original;
  }
}

function tfjsNodeVersion(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  return (JSON.parse(fs.readFileSync(path.join(ext.extensionPath, 'node_modules/@tensorflow/tfjs-node/package.json'), 'utf8')) as { version: string }).version;
}

function assertRanOnTensorflow(r: Awaited<ReturnType<typeof runCnn>>) {
  const version = tfjsNodeVersion();
  assert.equal(r.run.status, 'step-limit', `the run ended at the step limit: ${r.run.state.error?.message ?? ''} ${r.run.state.notices.join(' | ')}`);
  assert.equal(r.run.state.series[0].step.length, STEPS);
  assert.ok(r.run.state.series[0].totalLoss.every((l) => Number.isFinite(l)), 'finite losses');
  assert.deepEqual(
    { name: r.run.state.backend?.name, tfjsVersion: r.run.state.backend?.tfjsVersion },
    { name: 'tensorflow', tfjsVersion: version },
    'the run state says tfjs-node ran',
  );
  // What the panel shows: the last hydrate (after the run ended) carries the backend its header prints.
  const last = r.hydrated.at(-1);
  assert.ok(last, 'the panel was hydrated');
  assert.notEqual(last.run.status, 'running');
  assert.equal(`${last.run.backend?.name} · tfjs ${last.run.backend?.tfjsVersion}`, `tensorflow · tfjs ${version}`);
  // The example's findings come from the probes, which sit above the backend: the same as on wasm.
  const codes = vscode.languages.getDiagnostics(vscode.Uri.file(script())).filter((d) => d.source === 'Loss Lens').map((d) => d.code);
  assert.ok(codes.includes('l2-with-adaptive-optimizer'), `L2 under Adam is found on tensorflow too: ${codes.join(', ')}`);
}

describe('Loss Lens on the tensorflow backend (tfjs-node) in VS Code', () => {
  const config = () => vscode.workspace.getConfiguration('lossLens', vscode.Uri.file(script()));

  before(async () => {
    await config().update('backend', 'tensorflow', vscode.ConfigurationTarget.Workspace);
    await config().update('steps', STEPS, vscode.ConfigurationTarget.Workspace);
  });

  after(async () => {
    await config().update('backend', undefined, vscode.ConfigurationTarget.Workspace);
    await config().update('nodePath', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it("runs the CNN example on tfjs-node under the extension host's own Node, and the panel says tensorflow", async () => {
    await config().update('nodePath', undefined, vscode.ConfigurationTarget.Workspace);
    assert.ok(major(process.version) >= 23, `the extension host runs Node ${process.version}: the Node 24 case needs a Node without util.isArray`);
    const r = await runCnn();
    assert.equal(fs.realpathSync(r.exe), fs.realpathSync(process.execPath), "the runner is the extension host's Node");
    assertRanOnTensorflow(r);
  });

  it('runs it on tfjs-node under lossLens.nodePath (another Node major), and the panel says tensorflow', async () => {
    const other = process.env.LOSS_LENS_SUITE_NODE;
    assert.ok(other, 'LOSS_LENS_SUITE_NODE names a second Node (test/vscode/run-extension-tests.mjs sets it to the Node that runs it)');
    const otherVersion = execFileSync(other, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    assert.notEqual(major(otherVersion), major(process.version), `lossLens.nodePath (${other}, ${otherVersion}) must be another Node than the extension host's`);
    await config().update('nodePath', other, vscode.ConfigurationTarget.Workspace);
    const r = await runCnn();
    assert.equal(fs.realpathSync(r.exe), fs.realpathSync(other), 'the runner is the Node of lossLens.nodePath');
    assertRanOnTensorflow(r);
  });
});
