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
  private readonly why: HTMLElement;
  private whyKey = '';
  private readonly action: HTMLButtonElement;
  private readonly stale: HTMLElement;
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
    this.why = el(run, 'span', 'll-phase-why');
    this.why.hidden = true;
    this.action = button(this.root, 'Cancel', 'Stop this run', () => (this.running ? actions.stop() : actions.rerun()), 'll-button ll-run-action');
    // After an edit (a quick fix, say) the findings describe the file as it was: say so, next to the way out.
    this.stale = el(run, 'span', 'll-stale');
    this.stale.setAttribute('role', 'status');
    this.stale.append('File changed since this run: ');
    button(this.stale, 'Re-run', 'Run the script again, as it is now', () => actions.rerun(), 'll-button ll-stale-rerun');
    this.stale.hidden = true;
  }

  setStale(stale: boolean): void {
    this.stale.hidden = !stale;
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
    // Once the run has ended the phase says how many steps it made ("… · 20 steps"): the badge would say it twice.
    this.step.hidden = last === null || !phase.running;
    this.step.textContent = last === null ? 'no step yet' : `step ${formatInt(last)}`;
    this.step.setAttribute('data-step', String(last ?? 0));
    this.backend.textContent = state.backend ? displaySafe(`${state.backend.name} · tfjs ${state.backend.tfjsVersion}`) : '';
    this.renderWhy(state);
    return phase;
  }

  /**
   * Why a run stopped short, where it did: "Stopped at the step limit" alone leaves a reader wondering whose limit.
   * The runner does not know how many steps the script meant to make (a loop's bound, fit's epochs × batches), only
   * that it was still training when the limit came.
   */
  private renderWhy(state: RunState): void {
    const steps = Object.values(state.series).reduce((n, s) => Math.max(n, s.step.length), 0);
    const key = state.end?.reason === 'step-limit' ? String(steps) : '';
    if (key === this.whyKey) return;
    this.whyKey = key;
    this.why.hidden = key === '';
    this.why.replaceChildren();
    if (!key) return;
    this.why.append(`The script was still training: Loss Lens stops it after ${formatInt(steps)} optimizer step${steps === 1 ? '' : 's'}, the `);
    el(this.why, 'code', '', 'lossLens.steps');
    this.why.append(' setting (Settings › Extensions › Loss Lens).');
  }
}

function lastStep(state: RunState): number | null {
  let last: number | null = null;
  for (const s of Object.values(state.series)) if (s.step.length) last = Math.max(last ?? 0, s.step[s.step.length - 1]);
  return last;
}
