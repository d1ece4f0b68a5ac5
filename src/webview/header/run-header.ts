import { runPhase, type RunPhase } from '../../shared/analysis/run-phase';
import { displaySafe, formatInt } from '../../shared/format';
import type { RunState } from '../../shared/model/run-state';
import { button, el } from '../dom';

export interface RunHeaderActions {
  stop(): void;
  rerun(): void;
}

/** The script's file name from a path, as the header shows it. */
export const scriptName = (path: string) => path.split(/[\\/]/).pop() || path;

/**
 * The top line: the script (and its arguments), where the run is (checking the script and loading tfjs,
 * waiting for the first step, training, ended), the step, the backend, and Cancel or Re-run. It takes over
 * the markup the panel's HTML painted before any script ran (webview-html.ts), so nothing jumps, and
 * updates its elements in place: a focused Cancel button stays focused while steps stream in.
 */
export class RunHeader {
  readonly root: HTMLElement;
  private readonly script: HTMLElement;
  private readonly args: HTMLElement;
  private readonly phase: HTMLElement;
  private readonly phaseText: HTMLElement;
  private readonly step: HTMLElement;
  private readonly backend: HTMLElement;
  private readonly action: HTMLButtonElement;
  private running = true;

  constructor(parent: HTMLElement, initialScript: string | null, actions: RunHeaderActions) {
    this.root = el(parent, 'header', 'll-header');
    el(this.root, 'h1', 'll-title', 'Loss Lens');
    const run = el(this.root, 'div', 'll-run');
    this.script = el(run, 'span', 'll-script', initialScript ? scriptName(initialScript) : '');
    if (initialScript) this.script.title = displaySafe(initialScript);
    this.args = el(run, 'code', 'll-args');
    this.args.hidden = true;
    this.phase = el(run, 'span', 'll-phase phase-starting');
    this.phase.setAttribute('role', 'status');
    el(this.phase, 'span', 'll-spinner').setAttribute('aria-hidden', 'true');
    this.phaseText = el(this.phase, 'span', 'll-phase-text', 'Starting…');
    this.step = el(run, 'span', 'll-step-indicator', 'no step yet');
    this.step.setAttribute('data-step', '0');
    this.step.hidden = true;
    this.backend = el(run, 'span', 'll-meta-item');
    this.action = button(this.root, 'Cancel', 'Stop this run', () => (this.running ? actions.stop() : actions.rerun()), 'll-button ll-run-action');
  }

  render(state: RunState | null): RunPhase {
    const phase = runPhase(state);
    this.phase.className = `ll-phase phase-${phase.kind}`;
    this.phaseText.textContent = displaySafe(phase.kind === 'training' ? 'Training' : phase.text);
    this.running = phase.running;
    this.action.textContent = phase.running ? 'Cancel' : 'Re-run';
    const title = phase.running ? 'Stop this run' : 'Run the script again';
    this.action.title = title;
    this.action.setAttribute('aria-label', title);
    if (!state) return phase;
    this.script.textContent = displaySafe(scriptName(state.script));
    this.script.title = displaySafe(state.script);
    this.args.hidden = state.args.length === 0;
    this.args.textContent = displaySafe(state.args.join(' '));
    const last = lastStep(state);
    this.step.hidden = last === null;
    this.step.textContent = last === null ? 'no step yet' : `step ${formatInt(last)}`;
    this.step.setAttribute('data-step', String(last ?? 0));
    this.backend.textContent = state.backend ? displaySafe(`${state.backend.name} · tfjs ${state.backend.tfjsVersion}`) : '';
    return phase;
  }
}

function lastStep(state: RunState): number | null {
  let last: number | null = null;
  for (const s of Object.values(state.series)) if (s.step.length) last = Math.max(last ?? 0, s.step[s.step.length - 1]);
  return last;
}
