import type { Finding, Severity } from '../../shared/analysis/finding';
import { RULES } from '../../shared/analysis/rules/registry';
import { helpFor } from '../../shared/analysis/rules/rule';
import type { SourcePosition } from '../../shared/protocol/run-data';
import type { SelectTarget } from '../../shared/panel/webview-protocol';
import { displaySafe } from '../../shared/format';
import { el, prose } from '../dom';

export interface FindingsCallbacks {
  revealSource(source: SourcePosition): void;
  select(target: SelectTarget): void;
}

const GROUPS: Array<{ severity: Severity; title: string; icon: string }> = [
  { severity: 'error', title: 'Errors', icon: '✕' },
  { severity: 'warning', title: 'Warnings', icon: '!' },
  { severity: 'info', title: 'Info', icon: 'i' },
];

/** The engine's findings, grouped by severity. A click reveals the source line and selects the node. */
export class FindingsPanel {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;

  constructor(parent: HTMLElement, private readonly callbacks: FindingsCallbacks) {
    this.root = el(parent, 'section', 'll-panel ll-findings');
    this.root.setAttribute('aria-labelledby', 'll-findings-title');
    const header = el(this.root, 'header', 'll-panel-header');
    const title = el(header, 'h2', 'll-panel-title', 'Findings');
    title.id = 'll-findings-title';
    this.list = el(this.root, 'div', 'll-findings-list');
  }

  /** `framework`: the run's, so "Why it matters" gives a Python run Python advice. */
  render(findings: Finding[], framework: 'tfjs' | 'tensorflow' = 'tfjs'): void {
    const list = this.list;
    list.replaceChildren();
    const counts = GROUPS.map((g) => findings.filter((f) => f.severity === g.severity).length);
    // The counts are said once: in the verdict, and per group in each heading here.
    if (findings.length === 0) {
      el(list, 'p', 'll-empty', 'No findings yet.');
      return;
    }
    GROUPS.forEach((g, i) => {
      const items = findings.filter((f) => f.severity === g.severity);
      if (!items.length) return;
      const group = el(list, 'div', `ll-findings-group sev-${g.severity}`);
      el(group, 'h3', 'll-findings-heading', `${g.title} (${counts[i]})`);
      const ul = el(group, 'ul', 'll-findings-items');
      for (const f of items) {
        const li = el(ul, 'li', `ll-finding sev-${f.severity}`);
        const b = el(li, 'button', 'll-finding-button');
        b.type = 'button';
        const where = f.source ? `${f.source.file.split('/').pop()}:${f.source.line}` : null;
        b.setAttribute('aria-label', displaySafe(`${g.title.slice(0, -1)}: ${f.message}${where ? `. Reveal ${where}` : ''}`));
        el(b, 'span', 'll-finding-icon', g.icon).setAttribute('aria-hidden', 'true');
        const text = el(b, 'span', 'll-finding-text');
        prose(text, 'span', 'll-finding-message', f.message);
        const meta = el(text, 'span', 'll-finding-meta');
        el(meta, 'code', 'll-rule', f.ruleId);
        if (f.layer) el(meta, 'span', 'll-meta-item', `layer ${f.layer}`);
        if (f.step !== null) el(meta, 'span', 'll-meta-item', `step ${f.step}`);
        if (where) el(meta, 'span', 'll-meta-item ll-link', where);
        b.addEventListener('click', () => this.activate(f));
        const details = el(li, 'details', 'll-finding-help');
        el(details, 'summary', '', 'Why it matters');
        el(details, 'p', '', helpFor(RULES[f.ruleId], framework));
      }
    });
  }

  /** Bring the list into view with its first finding focused (the verdict's counts lead here). */
  focusFirst(): void {
    const first = this.list.querySelector<HTMLButtonElement>('.ll-finding-button');
    this.root.scrollIntoView({ block: 'start' });
    first?.focus({ preventScroll: true });
  }

  private activate(f: Finding): void {
    if (f.termId && f.termId !== 'data') this.callbacks.select({ kind: 'term', termId: f.termId });
    else if (f.layer) this.callbacks.select({ kind: 'layer', layer: f.layer });
    if (f.source) this.callbacks.revealSource(f.source);
  }
}
