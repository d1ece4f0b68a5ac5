import { button, el } from '../dom';
import type { UiState } from '../ui-state';

export interface CurvesToolbarActions {
  objective(o: number): void;
  smoothing(weight: number): void;
  logScale(on: boolean): void;
  resetZoom(): void;
  exportCsv(): void;
  exportJson(): void;
}

/** The curves' tools: the objective (when there are several), smoothing, log scale, reset zoom, exports. */
export function buildCurvesToolbar(tools: HTMLElement, ui: UiState['curves'], act: CurvesToolbarActions): { objectiveSelect: HTMLSelectElement } {
  const objectiveSelect = el(tools, 'select', 'll-input');
  objectiveSelect.setAttribute('aria-label', 'Objective (variable set) to plot');
  objectiveSelect.hidden = true;
  objectiveSelect.addEventListener('change', () => act.objective(Number(objectiveSelect.value)));
  const smoothLabel = el(tools, 'label', 'll-slider');
  el(smoothLabel, 'span', '', 'Smoothing');
  const smooth = el(smoothLabel, 'input');
  smooth.type = 'range';
  smooth.min = '0';
  smooth.max = '0.99';
  smooth.step = '0.01';
  smooth.value = String(ui.smoothing);
  smooth.setAttribute('aria-label', 'Smoothing weight (exponential moving average)');
  const smoothValue = el(smoothLabel, 'span', 'll-slider-value', ui.smoothing.toFixed(2));
  smooth.addEventListener('input', () => {
    smoothValue.textContent = Number(smooth.value).toFixed(2);
    act.smoothing(Number(smooth.value));
  });
  const logLabel = el(tools, 'label', 'll-check');
  const log = el(logLabel, 'input');
  log.type = 'checkbox';
  log.checked = ui.logScale;
  el(logLabel, 'span', '', 'Log scale');
  log.addEventListener('change', () => act.logScale(log.checked));
  button(tools, 'Reset zoom', 'Show every step and follow the run', act.resetZoom);
  button(tools, 'CSV', 'Export the curves as CSV', act.exportCsv);
  button(tools, 'JSON', 'Export the curves as JSON', act.exportJson);
  return { objectiveSelect };
}
