import * as path from 'node:path';
import * as vscode from 'vscode';

/** The Python extension's id: its exported API says which interpreter the user selected for a folder. */
const PYTHON_EXTENSION = 'ms-python.python';

/** The part of the Python extension's API used here (its `environments` API, ms-python.python ≥ 2023.x). */
interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri; path?: string } } | undefined>;
  };
}

/**
 * The interpreter for a `.py` script: the `lossLens.pythonPath` setting, else the interpreter selected in the
 * Python extension (only if it is installed; it is never asked to install or activate anything else), else
 * undefined (the engine's default, python3). The user's own interpreter runs the script: its TensorFlow is
 * what the script imports, and Loss Lens adds nothing to it.
 */
export async function pythonFor(script: vscode.Uri, setting: string, log: vscode.LogOutputChannel): Promise<string | undefined> {
  if (setting) return settingPath(script, setting);
  const extension = vscode.extensions.getExtension<PythonEnvironmentsApi>(PYTHON_EXTENSION);
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const environments = api?.environments;
    const active = environments?.getActiveEnvironmentPath(script);
    if (!environments || !active) return undefined;
    const resolved = await environments.resolveEnvironment(active);
    const executable = resolved?.executable?.uri?.fsPath ?? resolved?.executable?.path ?? undefined;
    if (executable) log.info(`Python interpreter from the Python extension: ${executable}`);
    return executable || undefined;
  } catch (err) {
    // An older or broken Python extension: the default interpreter, and a line saying why.
    log.warn(`Could not ask the Python extension for its interpreter (${(err as Error).message}); using python3.`);
    return undefined;
  }
}

/**
 * The setting as a path: `${workspaceFolder}` and a path relative to the script's workspace folder (`.venv/bin/python`)
 * are resolved there, as the Python extension's own settings are; a bare name (`python3.12`) is looked up on PATH.
 */
function settingPath(script: vscode.Uri, setting: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(script)?.uri.fsPath ?? path.dirname(script.fsPath);
  const expanded = setting.replace(/\$\{workspaceFolder\}/g, folder);
  if (path.isAbsolute(expanded) || !/[\\/]/.test(expanded)) return expanded;
  return path.resolve(folder, expanded);
}
