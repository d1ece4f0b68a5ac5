import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LossLensApi } from '../../../src/host/extension';

// Issue 23: "Visualize Loss Graph" on a .py file runs it on the Python runner, with the interpreter the
// lossLens.pythonPath setting names (the project venv: LOSS_LENS_SUITE_PYTHON, set by the launcher).

const EXTENSION_ID = 'loss-lens.loss-lens';
const file = (name: string) => path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, name);

async function api(): Promise<LossLensApi> {
  const ext = vscode.extensions.getExtension<LossLensApi>(EXTENSION_ID);
  assert.ok(ext, 'the extension is installed');
  return ext.activate();
}

describe('Loss Lens in VS Code on a Python script', () => {
  const python = process.env.LOSS_LENS_SUITE_PYTHON ?? '';

  before(async () => {
    assert.ok(python && fs.existsSync(python), `the suite's Python (${python}) exists: run npm run setup:python`);
    await vscode.workspace.getConfiguration('lossLens').update('pythonPath', python, vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await vscode.workspace.getConfiguration('lossLens').update('pythonPath', undefined, vscode.ConfigurationTarget.Workspace);
  });

  it("runs raises.py with the setting's interpreter, and points its error at the user's line in Problems", async () => {
    const { runs } = await api();
    const doc = await vscode.workspace.openTextDocument(file('raises.py'));
    assert.equal(doc.languageId, 'python');
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('lossLens.visualize');
    const run = runs.get(file('raises.py'));
    assert.ok(run, 'the command started a run');
    for (let i = 0; i < 400 && run.pid === undefined; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(run.pid, 'the runner started');
    // The runner process is the interpreter the setting names (a venv's python is a link to its base).
    let exe = '';
    try {
      exe = fs.readlinkSync(`/proc/${run.pid}/exe`);
    } catch {
      // It already ended: the report's notice below still names the interpreter.
    }
    const done = await runs.whenDone(file('raises.py'));
    assert.ok(done);
    if (exe) assert.equal(exe, fs.realpathSync(python));
    assert.equal(done.status, 'failed');
    assert.equal(done.outcome?.report.framework, 'tensorflow');
    assert.equal(done.state.error?.name, 'ValueError');
    assert.deepEqual(done.state.error?.source, { file: file('raises.py'), line: 2, column: 5 });
    assert.ok(done.state.notices.some((n) => n.includes(`(${python})`)), done.state.notices.join(' | '));
    const problems = vscode.languages.getDiagnostics(vscode.Uri.file(file('raises.py'))).filter((d) => d.source === 'Loss Lens');
    const err = problems.find((d) => d.code === 'script-error');
    assert.equal(err?.range.start.line, 1);
    assert.match(err!.message, /the data folder is empty/);
  });
});
