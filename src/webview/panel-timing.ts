import type { RunState } from '../shared/model/run-state';

/** When things first happened, as epoch milliseconds (performance.timeOrigin + now): the e2e reads them. */
export interface PanelMarks {
  /** When this document's navigation started: what VS Code took to create the webview is before it. */
  navigationStart: number;
  /** This script started: the HTML had been parsed (and painted, as a rule) by then. */
  scriptStart: number;
  firstContentfulPaint: number | null;
  firstHydrate: number | null;
  /** The first captured loss graph reached the panel (in a hydrate or an append). */
  firstGraphEvent: number | null;
  firstGraph: number | null;
  /** The run's own time to its first optimizer step (the step's wallMs: since the script started). */
  firstStepWallMs: number | null;
}

export const epochNow = () => performance.timeOrigin + performance.now();

/** The panel's first paint, hydrate, graph and step, recorded once each. */
export function createMarks(): PanelMarks {
  const marks: PanelMarks = {
    navigationStart: performance.timeOrigin,
    scriptStart: epochNow(),
    firstContentfulPaint: null,
    firstHydrate: null,
    firstGraphEvent: null,
    firstGraph: null,
    firstStepWallMs: null,
  };
  // The first contentful paint of this page: the HTML's own markup, as a rule before this script ran.
  const take = (entries: PerformanceEntryList) => {
    const fcp = entries.find((e) => e.name === 'first-contentful-paint');
    if (fcp && marks.firstContentfulPaint === null) marks.firstContentfulPaint = performance.timeOrigin + fcp.startTime;
  };
  take(performance.getEntriesByType('paint'));
  if (marks.firstContentfulPaint === null && typeof PerformanceObserver === 'function') {
    new PerformanceObserver((list) => take(list.getEntries())).observe({ type: 'paint', buffered: true });
  }
  return marks;
}

/** The first graph and the first step, as they reach the panel. */
export function markRun(marks: PanelMarks, s: RunState): void {
  if (marks.firstGraphEvent === null && Object.keys(s.graphs).length > 0) marks.firstGraphEvent = epochNow();
  if (marks.firstStepWallMs === null) {
    const first = Object.values(s.series).find((x) => x.wallMs.length > 0);
    if (first) marks.firstStepWallMs = first.wallMs[0];
  }
}
