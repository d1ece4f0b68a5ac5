import { describeTerm as termText, type TermView } from '../../shared/analysis/terms';
import { formatNumber } from '../../shared/format';
import { el } from '../dom';
import type { PlacedNode } from './place-graph';

export interface GraphLegendInput {
  terms: readonly TermView[];
  nodes: readonly PlacedNode[];
}

/** Penalties listed by name under each heading before "… and N more". */
const MAX_LISTED = 4;

function row(parent: HTMLElement, cls: string, text: string): HTMLElement {
  const r = el(parent, 'div', `ll-legend-row ${cls}`);
  el(r, 'span', 'll-swatch');
  el(r, 'span', 'll-legend-text', text);
  return r;
}

export const describeTerm = (t: TermView) => `${termText(t)} = ${formatNumber(t.lastValue)}`;

function termColumn(legend: HTMLElement, cls: string, heading: string, terms: readonly TermView[]): void {
  if (!terms.length) return;
  const col = el(legend, 'div', 'll-legend-col');
  row(col, cls, `${heading} (${terms.length})`);
  const list = el(col, 'ul', 'll-legend-terms');
  // A hand-written penalty has its own look (styles.css: italic, with a pencil).
  for (const t of terms.slice(0, MAX_LISTED)) el(list, 'li', `${cls}${t.kind === 'hand-written' ? ' hand-written' : ''}`, describeTerm(t));
  if (terms.length > MAX_LISTED) el(list, 'li', 'll-more', `… and ${terms.length - MAX_LISTED} more`);
}

/** The loss graph's legend, under the drawing: what each colour means, and the penalties in and out of the loss. */
export function renderGraphLegend(legend: HTMLElement, input: GraphLegendInput | null): void {
  legend.replaceChildren();
  if (!input) return;
  const keys = el(legend, 'div', 'll-legend-col');
  row(keys, 'role-data', 'data-loss path');
  row(keys, 'role-mixed', 'minimized loss (sum of the terms)');
  row(keys, 'layer-decayed', 'layer whose decay reaches the loss');
  row(keys, 'layer-none', 'layer without decay');
  if (input.nodes.some((n) => n.decay === 'dropped' || n.decay === 'partial')) row(keys, 'layer-dropped', 'layer whose decay is dropped');
  const penalties = input.terms.filter((t) => t.collection === 'regularization');
  termColumn(legend, 'role-regularization', 'regularization terms in the loss', penalties.filter((t) => t.reachesMinimizedLoss));
  termColumn(legend, 'unreached', 'terms NOT in the minimized loss', penalties.filter((t) => !t.reachesMinimizedLoss));
}
