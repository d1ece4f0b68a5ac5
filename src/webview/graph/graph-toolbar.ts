import { button, el } from '../dom';
import type { DirectionChoice } from './direction';

export interface GraphToolbarActions {
  search(query: string): void;
  nextMatch(direction: 1 | -1): void;
  fit(): void;
  zoom(factor: number): void;
  direction(choice: DirectionChoice): void;
  expandAll(): void;
  collapse(): void;
  fold(on: boolean): void;
  exportSvg(): void;
  exportPng(): void;
}

export interface GraphToolbar {
  searchInput: HTMLInputElement;
  searchCount: HTMLElement;
  foldBox: HTMLInputElement;
  directionSelect: HTMLSelectElement;
}

const DIRECTIONS: Array<[DirectionChoice, string]> = [
  ['auto', 'Layout: fit the panel'],
  ['LR', 'Layout: left to right'],
  ['TB', 'Layout: top down'],
];

/** The loss graph's tools: search (Enter steps through matches), fit and zoom, direction, expand/collapse, folding, exports. */
export function buildGraphToolbar(
  tools: HTMLElement,
  initial: { search: string; fold: boolean; direction: DirectionChoice },
  act: GraphToolbarActions,
): GraphToolbar {
  const searchInput = el(tools, 'input', 'll-input ll-search');
  searchInput.type = 'search';
  searchInput.placeholder = 'Search layers, weights, ops';
  searchInput.setAttribute('aria-label', 'Search the loss graph by name; Enter goes to the next match');
  searchInput.value = initial.search;
  searchInput.addEventListener('input', () => act.search(searchInput.value));
  searchInput.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    act.nextMatch(e.shiftKey ? -1 : 1);
  });
  const searchCount = el(tools, 'span', 'll-search-count');
  searchCount.setAttribute('aria-live', 'polite');
  button(tools, 'Fit', 'Fit the graph to the view, at a scale its text can be read', act.fit);
  button(tools, '−', 'Zoom out (Ctrl + wheel)', () => act.zoom(1 / 1.25), 'll-button ll-icon-button');
  button(tools, '+', 'Zoom in (Ctrl + wheel)', () => act.zoom(1.25), 'll-button ll-icon-button');
  const directionSelect = el(tools, 'select', 'll-input');
  directionSelect.setAttribute('aria-label', 'Graph direction');
  for (const [value, label] of DIRECTIONS) el(directionSelect, 'option', '', label).value = value;
  directionSelect.value = initial.direction;
  directionSelect.addEventListener('change', () => act.direction(directionSelect.value as DirectionChoice));
  button(tools, 'Expand all', 'Expand every layer to its ops', act.expandAll);
  button(tools, 'Collapse', 'Collapse to the layer level', act.collapse);
  const foldLabel = el(tools, 'label', 'll-check');
  const foldBox = el(foldLabel, 'input');
  foldBox.type = 'checkbox';
  foldBox.checked = initial.fold;
  el(foldLabel, 'span', '', 'Fold repeated blocks');
  foldBox.addEventListener('change', () => act.fold(foldBox.checked));
  button(tools, 'SVG', 'Export the loss graph as SVG', act.exportSvg);
  button(tools, 'PNG', 'Export the loss graph as PNG', act.exportPng);
  return { searchInput, searchCount, foldBox, directionSelect };
}
