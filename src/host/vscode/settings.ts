import * as vscode from 'vscode';
import { backendChoice, type BackendChoice } from '../../shared/protocol/runner-protocol';
import { MAX_TIMEOUT_SECONDS } from '../../engine/run-options';

export interface LossLensSettings {
  backend: BackendChoice;
  steps: number;
  timeoutSeconds: number;
  /** What the script gets as process.argv.slice(2). */
  scriptArguments: string[];
  /** Empty: the runtime VS Code already provides (process.execPath, run as Node). */
  nodePath: string;
  /** Empty: the Python extension's selected interpreter if it is installed, else python3 (for .py scripts). */
  pythonPath: string;
  decorations: boolean;
  /** Also show the notes that only say "no decay" or "no weights" (off: they are most lines, and drown the warnings). */
  showUndecayed: boolean;
  stopRunWhenPanelCloses: boolean;
}

/** Read once per use: settings may change between runs. Bad values fall back to defaults instead of failing a run. */
export function readSettings(scope?: vscode.Uri): LossLensSettings {
  const c = vscode.workspace.getConfiguration('lossLens', scope);
  const backend = backendChoice.safeParse(c.get('backend'));
  const positive = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
  return {
    backend: backend.success ? backend.data : 'auto',
    steps: Math.floor(positive(c.get('steps'), 20)),
    timeoutSeconds: Math.min(positive(c.get('timeoutSeconds'), 120), MAX_TIMEOUT_SECONDS),
    scriptArguments: stringArray(c.get('scriptArguments')),
    nodePath: c.get<string>('nodePath')?.trim() ?? '',
    pythonPath: c.get<string>('pythonPath')?.trim() ?? '',
    decorations: c.get<boolean>('decorations.enabled') ?? true,
    showUndecayed: c.get<boolean>('decorations.showUndecayed') ?? false,
    stopRunWhenPanelCloses: c.get<boolean>('stopRunWhenPanelCloses') ?? true,
  };
}

function stringArray(v: unknown): string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : [];
}
