import { formatInt } from '../../shared/format';
import { button, el, prose } from '../dom';
import type { UiState } from '../ui-state';
import { Chart, type ChartHooks } from './chart';
import { renderCurveLegend } from './curve-legend';
import type { SectionContent, SectionDef } from './curve-sections';
import { coincidenceNotes, MARKER_GLYPHS } from './coincide';

export interface SectionActions {
  /** A view choice changed (filter, Show all): redraw and remember it. */
  changed(): void;
  toggleCurve(id: string): void;
}

/**
 * One section of the curves on screen: its title, its tools (a filter box and Show all, for a section that
 * shows a subset), its legend and notes, and its chart. The tools are built once, so typing in the filter
 * keeps its focus while the legend under it is redrawn.
 */
export class SectionView {
  readonly chart: Chart;
  content: SectionContent | null = null;
  private readonly legend: HTMLElement;
  private readonly notes: HTMLElement;
  private readonly count: HTMLElement | null = null;
  private readonly showAll: HTMLButtonElement | null = null;
  private legendKey = '';
  private coincideKey = '';
  private readonly coincideNote: HTMLElement;
  private readonly box: HTMLElement;

  constructor(
    parent: HTMLElement,
    readonly def: SectionDef,
    private readonly ui: UiState['curves'],
    hooks: ChartHooks,
    private readonly actions: SectionActions,
  ) {
    const box = el(parent, 'div', `ll-chart-box ll-section-${def.id}`);
    this.box = box;
    el(box, 'h3', 'll-chart-title', def.title);
    if (def.filterable) {
      const tools = el(box, 'div', 'll-section-tools');
      const filter = el(tools, 'input', 'll-input ll-norm-filter');
      filter.type = 'search';
      filter.placeholder = 'Filter layers';
      filter.setAttribute('aria-label', `Filter the ${def.chartLabel.toLowerCase()} by layer name`);
      filter.value = ui.normFilter;
      filter.addEventListener('input', () => {
        this.ui.normFilter = filter.value;
        this.actions.changed();
      });
      this.showAll = button(tools, '', 'Show every layer, not only those that changed most', () => {
        this.ui.allNorms = !this.ui.allNorms;
        this.actions.changed();
      });
      this.showAll.classList.add('ll-show-all');
      this.count = el(tools, 'span', 'll-section-count');
      this.count.setAttribute('aria-live', 'polite');
    }
    this.legend = el(box, 'div', 'll-chart-legend');
    this.notes = el(box, 'div', 'll-legend-notes');
    this.coincideNote = el(box, 'div', 'll-legend-notes ll-coincide-notes');
    this.chart = new Chart(box, def.chartLabel, hooks);
  }

  /** A section with nothing to show (no decayed weight) takes no room. */
  setHidden(hidden: boolean): void {
    this.box.hidden = hidden;
  }

  /** Forget what was shown (a new run has no steps yet). */
  clear(): void {
    this.content = null;
    this.chart.clear();
    // The legend's buttons hold their curves (and so the run's columns) in their click handlers.
    this.legend.replaceChildren();
    this.notes.replaceChildren();
    this.coincideNote.replaceChildren();
    this.legendKey = '';
    this.coincideKey = '';
  }

  /** The legend, notes and subset count for this content; the legend is rebuilt only when it changes. */
  renderLegend(content: SectionContent): void {
    this.content = content;
    const sel = content.selection;
    if (this.count && this.showAll && sel) {
      this.count.textContent = `${formatInt(sel.shown.length)} of ${formatInt(sel.total)} layers`;
      this.showAll.textContent = this.ui.allNorms ? 'Show fewer' : 'Show all';
      this.showAll.setAttribute('aria-pressed', String(this.ui.allNorms));
      this.showAll.hidden = sel.total <= sel.shown.length && !this.ui.allNorms;
    }
    const key = JSON.stringify([content.curves.map((c) => [c.curve.id, c.curve.label, c.style]), this.ui.hidden, content.notes]);
    if (key === this.legendKey) return;
    this.legendKey = key;
    const hidden = new Set(this.ui.hidden);
    const entries = content.curves.map((c) => ({ curve: c.curve, style: c.style, hidden: hidden.has(c.curve.id) }));
    renderCurveLegend(this.legend, entries, (id) => this.actions.toggleCurve(id));
    this.coincideKey = '';
    this.notes.replaceChildren();
    for (const n of content.notes) prose(this.notes, 'span', 'll-legend-note', n);
  }

  /**
   * Lines the last draw found lying on one another, or on a reference line: each member's marker glyph beside its
   * legend entry, and a note that says which lines share a place, so a line hidden under another is not read as
   * missing.
   */
  renderCoincidence(): void {
    const co = this.chart.coincidence;
    const key = JSON.stringify([co.groups, [...co.onRule]]);
    if (key === this.coincideKey) return;
    this.coincideKey = key;
    const labelOf = new Map((this.content?.curves ?? []).map((c) => [c.curve.id, c.curve.label]));
    const ruleOf = new Map((this.content?.rules ?? []).map((r) => [r.id, r.label]));
    for (const m of this.legend.querySelectorAll('.ll-legend-marker')) m.remove();
    this.coincideNote.replaceChildren();
    for (const group of co.groups) {
      group.forEach((id, i) => {
        const b = [...this.legend.querySelectorAll<HTMLElement>('.ll-legend-toggle')].find((x) => x.dataset.curve === id);
        if (!b) return;
        // The glyph is a picture of the marker; the note says in words which lines share a place.
        const glyph = el(b, 'span', 'll-legend-marker', MARKER_GLYPHS[i % MARKER_GLYPHS.length]);
        glyph.setAttribute('aria-hidden', 'true');
        b.insertBefore(glyph, b.querySelector('.ll-legend-text'));
      });
    }
    for (const n of coincidenceNotes(co, (id) => labelOf.get(id) ?? id, (id) => ruleOf.get(id) ?? '')) prose(this.coincideNote, 'span', 'll-legend-note ll-coincide-note', n);
  }
}
