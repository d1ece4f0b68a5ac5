import type { Finding } from '../../shared/analysis/finding';
import type { Verdict } from '../../shared/analysis/verdict';
import { formatInt } from '../../shared/format';
import { el, setProse } from '../dom';
import { severityCounts } from '../findings/counts';

export interface VerdictActions {
  /** The counts were chosen: bring the Findings list into view, its first finding focused. */
  showFindings(): void;
}

/**
 * The answer first: one sentence on whether weight decay works here (verdictOf), and how many findings back it.
 * The findings themselves are said once, in the Findings list: the verdict repeating the first three word for word
 * made the panel say each of them twice (issue 21).
 */
export class VerdictPanel {
  readonly root: HTMLElement;
  private readonly headline: HTMLElement;
  private readonly note: HTMLElement;
  private readonly counts: HTMLButtonElement;

  constructor(parent: HTMLElement, actions: VerdictActions) {
    this.root = el(parent, 'section', 'll-verdict tone-pending');
    this.root.setAttribute('aria-labelledby', 'll-verdict-headline');
    const line = el(this.root, 'div', 'll-verdict-line');
    this.headline = el(line, 'h2', 'll-verdict-headline');
    this.headline.id = 'll-verdict-headline';
    this.note = el(line, 'span', 'll-verdict-note');
    this.counts = el(this.root, 'button', 'll-verdict-counts');
    this.counts.type = 'button';
    this.counts.addEventListener('click', () => actions.showFindings());
    this.root.hidden = true;
  }

  render(v: Verdict | null, step: number | null, findings: readonly Finding[]): void {
    this.root.hidden = v === null;
    if (!v) return;
    this.root.className = `ll-verdict tone-${v.tone}`;
    setProse(this.headline, v.headline);
    this.note.textContent = v.provisional && step !== null ? `so far, at step ${formatInt(step)}` : '';
    this.counts.hidden = findings.length === 0;
    this.counts.textContent = `${severityCounts(findings)}: see Findings`;
    this.counts.setAttribute('aria-label', `${severityCounts(findings)}. Go to the Findings list`);
  }
}
