import type { Finding } from '../../shared/analysis/finding';
import type { Verdict } from '../../shared/analysis/verdict';
import { displaySafe, formatInt } from '../../shared/format';
import type { SourcePosition } from '../../shared/protocol/run-data';
import { el } from '../dom';
import { scriptName } from '../header/run-header';

export interface VerdictActions {
  /** A finding line was chosen: open its source line, select its node. */
  open(finding: Finding): void;
}

const ICON: Record<Finding['severity'], string> = { error: '✕', warning: '!', info: 'i' };

export const sourceLabel = (s: SourcePosition) => `${scriptName(s.file)}:${s.line}`;

/**
 * The answer first: one sentence on whether weight decay works here (verdictOf), then a line for each
 * top finding, each a button that opens its source line.
 */
export class VerdictPanel {
  readonly root: HTMLElement;
  private readonly headline: HTMLElement;
  private readonly note: HTMLElement;
  private readonly list: HTMLElement;
  private readonly more: HTMLElement;
  private key = '';

  constructor(parent: HTMLElement, private readonly actions: VerdictActions) {
    this.root = el(parent, 'section', 'll-verdict tone-pending');
    this.root.setAttribute('aria-labelledby', 'll-verdict-headline');
    const line = el(this.root, 'div', 'll-verdict-line');
    this.headline = el(line, 'h2', 'll-verdict-headline');
    this.headline.id = 'll-verdict-headline';
    this.note = el(line, 'span', 'll-verdict-note');
    this.list = el(this.root, 'ul', 'll-verdict-findings');
    this.more = el(this.root, 'p', 'll-verdict-more');
    this.root.hidden = true;
  }

  render(v: Verdict | null, step: number | null): void {
    this.root.hidden = v === null;
    if (!v) return;
    this.root.className = `ll-verdict tone-${v.tone}`;
    this.headline.textContent = displaySafe(v.headline);
    this.note.textContent = v.provisional && step !== null ? `so far, at step ${formatInt(step)}` : '';
    // Rebuild the finding lines only when they change, so keyboard focus on one of them survives appends.
    const key = JSON.stringify(v.top.map((f) => [f.ruleId, f.message, f.source]));
    if (key !== this.key) {
      this.key = key;
      this.list.replaceChildren();
      for (const f of v.top) {
        const b = el(el(this.list, 'li'), 'button', `ll-verdict-finding sev-${f.severity}`);
        b.type = 'button';
        el(b, 'span', 'll-finding-icon', ICON[f.severity]).setAttribute('aria-hidden', 'true');
        el(b, 'span', 'll-verdict-message', f.message);
        if (f.source) el(b, 'span', 'll-link', sourceLabel(f.source));
        b.setAttribute('aria-label', displaySafe(`${f.severity}: ${f.message}${f.source ? `. Open ${sourceLabel(f.source)}` : ''}`));
        b.addEventListener('click', () => this.actions.open(f));
      }
    }
    this.more.hidden = v.more === 0;
    this.more.textContent = `+${v.more} more under Findings`;
  }
}
