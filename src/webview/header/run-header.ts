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
    // A Python run's backend is TensorFlow itself (its version in tfjsVersion's place), not a tfjs build.
    const b = state.backend;
    this.backend.textContent = !b ? '' : displaySafe(state.framework === 'tensorflow' ? `TensorFlow ${b.tfjsVersion} · Python` : `${b.name} · tfjs ${b.tfjsVersion}`);
    this.renderWhy(state);
    return phase;
  }

  /**
   * Why a run stopped short, where it did: "Stopped at the step limit" alone leaves a reader wondering whose limit.
   * A model.fit / fitDataset call says what it plans (epochs × batches), so then the header says how far the run
   * got of it; a custom loop's bound is not known to the runner, and then nothing is said about a plan.
   */
  private renderWhy(state: RunState): void {
    const steps = Object.values(state.series).reduce((n, s) => Math.max(n, s.step.length), 0);
    const plan = state.end?.reason === 'step-limit' ? plannedSteps(state) : null;
    const planned = plan && plan.steps > steps ? plan : null;
    const key = state.end?.reason === 'step-limit' ? `${steps}/${planned?.steps ?? ''}` : '';
    if (key === this.whyKey) return;
    this.whyKey = key;
    this.why.hidden = key === '';
    this.why.replaceChildren();
    if (!key) return;
    const stepWord = `optimizer step${steps === 1 ? '' : 's'}`;
    this.why.append(
      planned
        ? `The script was still training: Loss Lens stopped it after ${formatInt(steps)} of the ${formatInt(planned.steps)} optimizer steps it planned (${planned.how}), at the `
        : `The script was still training: Loss Lens stops it after ${formatInt(steps)} ${stepWord}, the `,
    );
    el(this.why, 'code', '', 'lossLens.steps');
    this.why.append(planned ? ' limit (Settings › Extensions › Loss Lens).' : ' setting (Settings › Extensions › Loss Lens).');
  }
}

/**
 * The optimizer steps the script's model.fit / fitDataset calls planned (epochs × batches per epoch), with how, or
 * null when no call said (a custom loop) or one could not (a dataset of unknown size).
 */
export function plannedSteps(state: RunState): { steps: number; how: string } | null {
  const plans = state.trainingPlans ?? [];
  if (plans.length === 0 || plans.some((p) => p.stepsPerEpoch === null)) return null;
  const steps = plans.reduce((n, p) => n + p.epochs * p.stepsPerEpoch!, 0);
  const how =
    plans.length === 1
      ? `model.${plans[0].method}: ${formatInt(plans[0].epochs)} epoch${plans[0].epochs === 1 ? '' : 's'} × ${formatInt(plans[0].stepsPerEpoch!)} batch${plans[0].stepsPerEpoch === 1 ? '' : 'es'}`
      : `${plans.length} model.fit calls`;
  return { steps, how };
}

function lastStep(state: RunState): number | null {
  let last: number | null = null;
  for (const s of Object.values(state.series)) if (s.step.length) last = Math.max(last ?? 0, s.step[s.step.length - 1]);
  return last;
}
