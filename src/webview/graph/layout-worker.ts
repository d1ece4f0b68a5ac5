// The graph layout's Web Worker: dagre on a 2,000-op graph takes seconds, and must never freeze the view.
import { layoutGraph, type LayoutRequest } from './dagre-layout';

const scope = self as unknown as { onmessage: ((e: MessageEvent<LayoutRequest>) => void) | null; postMessage(m: unknown): void };
scope.onmessage = (e) => {
  try {
    scope.postMessage({ ok: true, result: layoutGraph(e.data) });
  } catch (err) {
    scope.postMessage({ ok: false, id: e.data.id, error: String((err as Error)?.message ?? err) });
  }
};
