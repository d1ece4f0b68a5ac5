import { prose } from '../dom';
import type { RunState } from '../../shared/model/run-state';
import { compareSummary } from './compare-summary';

/** The comparison's own line under the header; hidden while the panel shows one run. */
export class CompareLine {
  readonly root: HTMLElement;

  constructor(parent: HTMLElement) {
    this.root = parent.ownerDocument.createElement('p');
    this.root.className = 'll-compare-summary';
    this.root.setAttribute('aria-label', 'Comparison with decoupled weight decay');
    this.root.hidden = true;
    parent.appendChild(this.root);
  }

  render(asWritten: RunState | null, decoupled: RunState | null): void {
    const s = asWritten && decoupled ? compareSummary(asWritten, decoupled) : null;
    const parts = s ? [s.decay, s.dataLoss].filter((x): x is string => x !== null) : [];
    this.root.hidden = parts.length === 0;
    this.root.replaceChildren();
    for (const p of parts) {
      prose(this.root, 'span', 'll-compare-part', p);
    }
  }
}
