import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LossLensApi } from '../../../src/host/extension';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { helpersWithToken, isAlive, processesWithMark, processesWithToken } from '../../helpers/process-state';

const EXTENSION_ID = 'loss-lens.loss-lens';
const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const file = (name: string) => path.join(ws(), name);

async function api(): Promise<LossLensApi> {
  const ext = vscode.extensions.getExtension<LossLensApi>(EXTENSION_ID);
  assert.ok(ext, 'the extension is installed');
  return ext.activate();
}

async function open(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(file(name));
  return vscode.window.showTextDocument(doc);
}

/** Runs the command on a script the way a user does, and waits for the run to end. */
async function visualize(name: string) {
  const { runs } = await api();
  await open(name);
  await vscode.commands.executeCommand('lossLens.visualize');
  const run = await runs.whenDone(file(name));
  assert.ok(run, 'a run was recorded');
  return run;
}

function lossLensDiagnostics(name: string) {
  return vscode.languages.getDiagnostics(vscode.Uri.file(file(name))).filter((d) => d.source === 'Loss Lens');
}

describe('Loss Lens in VS Code', () => {
  before(async () => {
    await vscode.workspace.getConfiguration('lossLens').update('steps', 6, vscode.ConfigurationTarget.Workspace);
  });

  it('declares its commands and refuses untrusted workspaces', async () => {
    await api();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    assert.equal(ext.packageJSON.capabilities.untrustedWorkspaces.supported, false);
    const commands = await vscode.commands.getCommands(true);
    for (const c of ['lossLens.visualize', 'lossLens.compareDecoupled', 'lossLens.stop', 'lossLens.rerun']) assert.ok(commands.includes(c), c);
  });

  it('runs the command: errors in Problems and a note on each layer line', async () => {
    const run = await visualize('custom-loop-drops-penalty.ts');
    assert.equal(run.status, 'step-limit');
    assert.equal(run.state.series[0].step.length, 6, 'the steps setting is honoured');
    const diags = lossLensDiagnostics('custom-loop-drops-penalty.ts');
    assert.deepEqual(
      diags.map((d) => [d.range.start.line, d.code, d.severity]),
      [19, 22, 25].map((line) => [line, 'regularizer-not-in-loss', vscode.DiagnosticSeverity.Error]),
    );
    const { decorations } = await api();
    assert.deepEqual(decorations.notesFor(file('custom-loop-drops-penalty.ts')), [
      { line: 19, text: '⚠ L2 1e-3 never reaches the minimized loss' },
      { line: 22, text: '⚠ L2 1e-3 never reaches the minimized loss' },
      { line: 25, text: '⚠ L2 1e-3 never reaches the minimized loss' },
    ]);
  });

  it('shows each error as a CodeLens above its line, at column 0: seen without scrolling sideways', async () => {
    // The inline notes sit after the code, past the longest lines at a 50/50 split; a lens sits above the line, at the left.
    const uri = vscode.Uri.file(file('custom-loop-drops-penalty.ts'));
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    const ours = lenses.filter((l) => l.command?.title.includes('Loss Lens:'));
    assert.deepEqual(
      ours.map((l) => [l.range.start.line, l.range.start.character]),
      [19, 22, 25].map((line) => [line, 0]),
    );
    const diags = lossLensDiagnostics('custom-loop-drops-penalty.ts');
    for (const [i, l] of ours.entries()) {
      assert.match(l.command!.title, /^\$\(error\) Loss Lens: L2 1e-3 on \S+ never reaches the minimized loss$/);
      // The lens is the diagnostic's message in short; its tooltip has the whole of it.
      assert.ok(diags[i].message.startsWith(l.command!.title.replace('$(error) Loss Lens: ', '')), diags[i].message);
      assert.equal(l.command!.tooltip, diags[i].message);
    }
    // And an icon in the gutter of each of those lines, the short text on hover (light and dark variants).
    const { gutter } = await api();
    const icons = gutter.iconsFor(file('custom-loop-drops-penalty.ts'));
    assert.deepEqual(
      icons.map((i) => [i.line, i.severity]),
      [19, 22, 25].map((line) => [line, 'error']),
    );
    for (const [i, icon] of icons.entries()) assert.equal(icon.hover, ours[i].command!.title.replace('$(error) ', ''));
  });

  it('opens the panel beside the editor, hydrates it on ready and streams appends while the run goes on', async () => {
    const { panels, runs } = await api();
    const config = vscode.workspace.getConfiguration('lossLens');
    await config.update('steps', 15, vscode.ConfigurationTarget.Workspace);
    await open('slow-steps.ts');
    await vscode.commands.executeCommand('lossLens.visualize');
    const p = panels.panelFor(file('slow-steps.ts'));
    assert.ok(p, 'the command opened a panel at once');
    assert.equal(p.panel.title, 'Loss Lens: slow-steps.ts');
    const run = runs.get(file('slow-steps.ts'))!;
    for (let i = 0; i < 200 && p.sent.append < 2; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(p.sent.hydrate >= 1, 'hydrated after the webview said ready');
    assert.ok(p.sent.append >= 2, 'steps were appended as they came');
    assert.equal(run.status, 'running', 'while the run was still going');
    await runs.whenDone(file('slow-steps.ts'));
    assert.equal(run.state.series[0].step.length, 15);
    await config.update('steps', 6, vscode.ConfigurationTarget.Workspace);
  });

  it('opens only files of the run when the panel asks, and ignores malformed messages', async () => {
    const { panels } = await api();
    await open('custom-loop-with-penalty.ts');
    const p = panels.panelFor(file('custom-loop-drops-penalty.ts'))!;
    await p.receive({ type: 'revealSource', source: { file: '/etc/passwd', line: 1, column: 1 } });
    await p.receive({ type: 'revealSource', source: 'not a position' });
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, file('custom-loop-with-penalty.ts'));
    await p.receive({ type: 'revealSource', source: { file: file('custom-loop-drops-penalty.ts'), line: 23, column: 21 } });
    const editor = vscode.window.activeTextEditor!;
    assert.equal(editor.document.uri.fsPath, file('custom-loop-drops-penalty.ts'));
    assert.equal(editor.selection.active.line, 22);
  });

  it('moves the notes with edits above them, and clears a replaced line', async () => {
    const editor = await open('custom-loop-drops-penalty.ts');
    const { decorations } = await api();
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), '// a new first line\n'));
    assert.deepEqual(decorations.notesFor(file('custom-loop-drops-penalty.ts')).map((n) => n.line), [20, 23, 26]);
    // Deleting the first layer's line clears its note and moves the others up.
    await editor.edit((e) => e.delete(new vscode.Range(20, 0, 21, 0)));
    assert.deepEqual(decorations.notesFor(file('custom-loop-drops-penalty.ts')).map((n) => n.line), [22, 25]);
    await vscode.commands.executeCommand('undo');
    await vscode.commands.executeCommand('undo');
    await editor.document.save();
  });

  it('quick-fixes a minimize loop that drops its penalties, and the re-run is clean', async () => {
    await visualize('custom-loop-drops-penalty.ts');
    const uri = vscode.Uri.file(file('custom-loop-drops-penalty.ts'));
    const [first] = lossLensDiagnostics('custom-loop-drops-penalty.ts');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, first.range);
    const fix = actions.find((a) => a.title.includes('calculateLosses'));
    assert.ok(fix?.edit, `a quick fix is offered (got: ${actions.map((a) => a.title).join(', ')})`);
    const { panels } = await api();
    const panel = panels.panelFor(file('custom-loop-drops-penalty.ts'))!;
    assert.equal(panel.stale, false, 'a fresh run describes the file as it is');
    const staleBefore = panel.sent.stale;
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(text, /tf\.add\(tf\.losses\.softmaxCrossEntropy\(y, logits\) as tf\.Scalar, tf\.addN\(model\.calculateLosses\(\)\)\) as tf\.Scalar/);
    // The fix changed the file: the panel says its findings are stale ("File changed since this run: Re-run").
    assert.equal(panel.stale, true);
    assert.equal(panel.sent.stale, staleBefore + 1, 'the webview was told once');
    const run = await visualize('custom-loop-drops-penalty.ts');
    assert.equal(panel.stale, false, 'the re-run describes the fixed file');
    assert.equal(run.status, 'step-limit');
    assert.deepEqual(lossLensDiagnostics('custom-loop-drops-penalty.ts'), []);
    const { decorations } = await api();
    assert.equal(decorations.notesFor(file('custom-loop-drops-penalty.ts'))[0].text, 'L2 1e-3 on kernel · reaches loss');
  });

  it('compares with decoupled weight decay: both variants run, one panel overlays them, Problems and notes stay the script’s', async () => {
    const { runs, panels, decorations } = await api();
    await open('adam-l2-decay.ts');
    await vscode.commands.executeCommand('lossLens.compareDecoupled');
    const run = await runs.whenDone(file('adam-l2-decay.ts'));
    assert.ok(run?.partner, 'the run has its decoupled partner');
    const decoupled = run.partner;
    assert.equal(run.state.weightDecay, 'as-written');
    assert.equal(decoupled.state.weightDecay, 'decoupled');
    assert.equal(run.status, 'step-limit');
    assert.equal(decoupled.status, 'step-limit');
    assert.equal(runs.compareOf(file('adam-l2-decay.ts')), decoupled);
    // The decoupled run decays every kernel by exactly lr·2·l2 = 2e-6 per step; Adam with L2 does far more.
    for (const column of Object.values(decoupled.state.series[0].decay.values)) for (const v of column) assert.ok(Math.abs(v! / 2e-6 - 1) < 1e-9, String(v));
    const medians = run.outcome!.report.layers.flatMap((l) => l.weights).filter((w) => w.regularizer).map((w) => w.effectiveDecay!);
    assert.ok(medians.length === 3 && medians.every((m) => m > 10 * 2e-6), `as written: ${medians.join(', ')}`);
    assert.ok(decoupled.state.series[0].regularizationLoss.every((r) => r === 0), 'nothing regularizes the decoupled loss');
    // Seeded: same start.
    assert.equal(decoupled.state.series[0].dataLoss[0], run.state.series[0].dataLoss[0]);
    // One panel: hydrated with both runs, the decoupled one's steps appended as the overlay.
    const p = panels.panelFor(file('adam-l2-decay.ts'))!;
    // A webview loads at its own pace: its ready (and so its hydrate) may come after both runs ended.
    for (let i = 0; i < 200 && p.sent.compareHydrate < 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(p.sent.compareHydrate >= 1, `a hydrate carried the decoupled run: ${JSON.stringify(p.sent)}`);
    // Problems and notes are those of the script as written: one L2-with-Adam warning for its three layers (one
    // cause, folded: the other two linked from it), not two.
    const adaptive = lossLensDiagnostics('adam-l2-decay.ts').filter((d) => d.code === 'l2-with-adaptive-optimizer');
    assert.equal(adaptive.length, 1);
    assert.match(adaptive[0].message, /^L2 1e-3 on kernel of dense_Dense1, dense_Dense2 and dense_Dense3 with Adam is not weight decay/);
    assert.deepEqual(
      adaptive[0].relatedInformation?.map((r) => r.message),
      ['dense_Dense2: the same', 'dense_Dense3: the same'],
    );
    assert.match(decorations.notesFor(file('adam-l2-decay.ts'))[0].text, /^L2 1e-3 on kernel · reaches loss · Adam shrinks it .*\/step \(plain SGD: 2e-6\)$/);
    // For a window reload, the archive keeps the comparison with the run (saved as the last side ends).
    let saved = await panels.archive.load(file('adam-l2-decay.ts'));
    for (let i = 0; i < 100 && !saved?.compare; i++) {
      await new Promise((r) => setTimeout(r, 50));
      saved = await panels.archive.load(file('adam-l2-decay.ts'));
    }
    assert.equal(saved?.compare?.weightDecay, 'decoupled');
    assert.deepEqual(saved.compare.series[0].step, decoupled.state.series[0].step);
  });

  it('restores a saved comparison after a reload: the panel comes back with the decoupled overlay', async () => {
    const { runs, panels } = await api();
    const saved = (await panels.archive.load(file('adam-l2-decay.ts')))!;
    // The saved picture under the name of a script this window has not run (a reload's new host has run none).
    const script = file('custom-loop-with-penalty.ts');
    const unplaced = (s: typeof saved.state) => ({ ...s, script, layers: s.layers.map((l) => ({ ...l, source: null })) });
    await panels.archive.save(unplaced(saved.state), [], unplaced(saved.compare!));
    const panel = vscode.window.createWebviewPanel('lossLens.panel', 'Loss Lens', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
    await panels.deserializeWebviewPanel(panel, { script });
    assert.equal(runs.get(script)?.state.weightDecay, 'as-written');
    assert.equal(runs.compareOf(script)?.state.weightDecay, 'decoupled');
    const p = panels.panelFor(script)!;
    for (let i = 0; i < 200 && p.sent.compareHydrate < 1; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(p.sent.compareHydrate >= 1, `the restored panel's hydrate carried the decoupled run: ${JSON.stringify(p.sent)}`);
    panel.dispose();
  });

  it('stops both variants of a comparison at once', async () => {
    const { runs } = await api();
    await open('never-ends.ts');
    await vscode.commands.executeCommand('lossLens.compareDecoupled');
    const run = runs.get(file('never-ends.ts'))!;
    for (let i = 0; i < 100 && run.pid === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    const pid = run.pid!;
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(isAlive(pid), 'the first variant is up');
    await vscode.commands.executeCommand('lossLens.stop');
    await runs.whenDone(file('never-ends.ts'));
    assert.equal(isAlive(pid), false, 'its runner is gone');
    assert.equal(runs.isRunning(), false, 'and the second never starts');
    const second = run.partner!;
    assert.notEqual(second.status, 'running');
    assert.ok(second.pid === undefined || !isAlive(second.pid));
  });

  it('quick-fixes L2 under Adam into decoupled weight decay, and the re-run measures it', async () => {
    await visualize('adam-l2-decay.ts');
    const uri = vscode.Uri.file(file('adam-l2-decay.ts'));
    const first = lossLensDiagnostics('adam-l2-decay.ts').find((d) => d.code === 'l2-with-adaptive-optimizer')!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, first.range);
    const fix = actions.find((a) => a.title === 'Use decoupled weight decay');
    assert.ok(fix?.edit, `the quick fix is offered (got: ${actions.map((a) => a.title).join(', ')})`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const doc = await vscode.workspace.openTextDocument(uri);
    await doc.save();
    assert.match(doc.getText(), /function applyDecoupledWeightDecay\(layers: tf\.layers\.Layer\[\]/);
    // One finding for the three layers of one cause: the fix decouples all three.
    assert.match(
      doc.getText(),
      /onBatchEnd: \(\) => applyDecoupledWeightDecay\(\[model\.getLayer\('dense_Dense1'\), model\.getLayer\('dense_Dense2'\), model\.getLayer\('dense_Dense3'\)\], \['kernel'\], 0\.001, 0\.002\)/,
    );
    assert.doesNotMatch(doc.getText(), /kernelRegularizer: decay\(\)/);
    const run = await visualize('adam-l2-decay.ts');
    assert.equal(run.status, 'step-limit');
    const s = run.state.series[0].decay.values['dense_Dense1/kernel'].filter((v): v is number => v !== null);
    assert.ok(s.length >= 3 && s.every((v) => Math.abs(v / 2e-6 - 1) < 1e-3), `decoupled decay measured: ${s.join(', ')}`);
    const { decorations } = await api();
    assert.match(decorations.notesFor(file('adam-l2-decay.ts'))[0].text, /^decoupled 2e-6\/step \(script, line \d+\) on kernel$/);
    assert.equal(lossLensDiagnostics('adam-l2-decay.ts').filter((d) => d.code === 'l2-with-adaptive-optimizer').length, 0);
  });

  it('points a script error at the user line, in Problems', async () => {
    const run = await visualize('throws.ts');
    assert.equal(run.status, 'failed');
    const err = lossLensDiagnostics('throws.ts').find((d) => d.code === 'script-error');
    assert.equal(err?.range.start.line, 10);
    assert.match(err!.message, /data loader ran dry/);
    // The layers were built in a helper: their notes are there.
    const { decorations } = await api();
    assert.equal(decorations.notesFor(file('helpers/build-model.ts')).length, 2);
  });

  /** Starts spawns-helpers.js spinning (it cannot answer a polite stop) and waits until its helpers run. */
  async function startSpinningRun(): Promise<{ mark: string; pid: number }> {
    const { runs } = await api();
    const config = vscode.workspace.getConfiguration('lossLens', vscode.Uri.file(file('spawns-helpers.js')));
    await config.update('scriptArguments', ['--spin'], vscode.ConfigurationTarget.Workspace);
    await config.update('steps', 1000, vscode.ConfigurationTarget.Workspace);
    await open('spawns-helpers.js');
    await vscode.commands.executeCommand('lossLens.visualize');
    const run = runs.get(file('spawns-helpers.js'))!;
    for (let i = 0; i < 200 && (run.mark === undefined || processesWithMark(run.mark).length < 4); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(run.mark && run.pid, 'the run started');
    assert.ok(processesWithMark(run.mark).length >= 4, 'the runner and its three helpers carry the mark');
    await config.update('scriptArguments', undefined, vscode.ConfigurationTarget.Workspace);
    await config.update('steps', 6, vscode.ConfigurationTarget.Workspace);
    return { mark: run.mark, pid: run.pid };
  }

  it('kills the script and its children on cancel', async () => {
    const { runs } = await api();
    await open('never-ends.ts');
    await vscode.commands.executeCommand('lossLens.visualize');
    const run = runs.get(file('never-ends.ts'))!;
    for (let i = 0; i < 100 && run.pid === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    const pid = run.pid!;
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(isAlive(pid), 'the runner is up');
    await vscode.commands.executeCommand('lossLens.stop');
    await runs.whenDone(file('never-ends.ts'));
    assert.equal(isAlive(pid), false, 'the runner is gone');
    assert.deepEqual(processesWithMark(run.mark!), [], 'no process carries the run mark');
    assert.equal(run.status, 'cancelled');
    assert.equal(runs.isRunning(), false);
  });

  it('cancel leaves no process of the run: detached, setsid and background-job helpers included', async () => {
    const { runs } = await api();
    const { mark } = await startSpinningRun();
    await vscode.commands.executeCommand('lossLens.stop');
    await runs.whenDone(file('spawns-helpers.js'));
    assert.deepEqual(processesWithMark(mark), []);
    assert.equal(runs.get(file('spawns-helpers.js'))?.status, 'cancelled');
  });

  it('re-run replaces the run and leaves no process of the old one', async () => {
    const { runs } = await api();
    const old = await startSpinningRun();
    const oldRun = runs.get(file('spawns-helpers.js'))!;
    await vscode.commands.executeCommand('lossLens.rerun');
    const fresh = runs.get(file('spawns-helpers.js'))!;
    assert.notEqual(fresh, oldRun, 'a new run');
    assert.equal(oldRun.status, 'cancelled');
    assert.deepEqual(processesWithMark(old.mark), [], 'nothing of the old run is left');
    await runs.whenDone(file('spawns-helpers.js'));
    assert.deepEqual(processesWithMark(fresh.mark!), [], 'nor of the new one once it ended');
  });

  it('closing the panel stops the run and leaves no process of it', async () => {
    const { runs, panels } = await api();
    const { mark } = await startSpinningRun();
    panels.panelFor(file('spawns-helpers.js'))!.panel.dispose();
    await runs.whenDone(file('spawns-helpers.js'));
    assert.deepEqual(processesWithMark(mark), []);
    assert.equal(runs.get(file('spawns-helpers.js'))?.status, 'cancelled');
  });

  it('passes lossLens.scriptArguments to the script and keeps them in the run', async () => {
    const config = vscode.workspace.getConfiguration('lossLens', vscode.Uri.file(file('argparse-style.js')));
    const args = ['--epochs', '4', '--units', '3', '--label', 'from settings'];
    await config.update('scriptArguments', args, vscode.ConfigurationTarget.Workspace);
    try {
      const run = await visualize('argparse-style.js');
      assert.deepEqual(run.state.args, args);
      assert.equal(run.status, 'completed');
      assert.equal(run.state.series[0].step.length, 4, 'it trained the epochs it was told');
    } finally {
      await config.update('scriptArguments', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('Stop takes along helpers with an environment of their own (an env -i double fork too), and says how the run was contained', async () => {
    const { runs } = await api();
    const token = `ll-vscode-escape-${randomBytes(6).toString('hex')}`;
    const config = vscode.workspace.getConfiguration('lossLens', vscode.Uri.file(file('escapes-own-env.js')));
    await config.update('scriptArguments', [token, 'slow'], vscode.ConfigurationTarget.Workspace);
    await config.update('steps', 100000, vscode.ConfigurationTarget.Workspace);
    try {
      await open('escapes-own-env.js');
      await vscode.commands.executeCommand('lossLens.visualize');
      for (let i = 0; i < 400 && helpersWithToken(token).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(helpersWithToken(token).length, 3, 'its three helpers run');
      await vscode.commands.executeCommand('lossLens.stop');
      const run = await runs.whenDone(file('escapes-own-env.js'));
      assert.equal(run?.status, 'cancelled');
      assert.deepEqual(processesWithToken(token), [], 'no helper is left');
      const containment = run!.state.notices.find((n) => n.startsWith('Containment: '));
      assert.match(containment ?? '', /^Containment: cgroup v2 \(/);
      assert.equal(fs.existsSync(/\(([^)]+)\)/.exec(containment!)![1]), false, 'its cgroup is gone');
    } finally {
      await config.update('scriptArguments', undefined, vscode.ConfigurationTarget.Workspace);
      await config.update('steps', 6, vscode.ConfigurationTarget.Workspace);
    }
  });

  it("the script's environment is the extension host's plus LOSS_LENS_RUN, and its children inherit exactly that", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'll-vscode-env-')), 'env.json');
    const config = vscode.workspace.getConfiguration('lossLens', vscode.Uri.file(file('prints-env.js')));
    await config.update('scriptArguments', [out], vscode.ConfigurationTarget.Workspace);
    try {
      const run = await visualize('prints-env.js');
      assert.equal(run.status, 'completed');
      const seen = JSON.parse(fs.readFileSync(out, 'utf8')) as { env: Record<string, string>; child: Record<string, string> };
      const { LOSS_LENS_RUN: mark, ...rest } = seen.env;
      assert.match(mark, /^[0-9a-f]{32}$/);
      assert.deepEqual(rest, { ...process.env });
      assert.deepEqual(seen.child, seen.env);
    } finally {
      await config.update('scriptArguments', undefined, vscode.ConfigurationTarget.Workspace);
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});
