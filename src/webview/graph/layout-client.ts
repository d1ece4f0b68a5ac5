import workerSource from 'virtual:layout-worker';
import { layoutGraph, type LayoutRequest, type LayoutResult } from './dagre-layout';

type Reply = { ok: true; result: LayoutResult } | { ok: false; id: number; error: string };

/**
 * Runs layouts in a Web Worker made from the bundled worker source (a blob: URL, which the panel's CSP
 * allows as worker-src; a webview cannot start a worker from its extension's files directly). Only the
 * newest request matters: older results are dropped. Without workers it falls back to the main thread.
 */
export class LayoutClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: LayoutResult | null) => void; reject: (e: Error) => void }>();
  readonly mode: 'worker' | 'main-thread';

  constructor() {
    try {
      const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
      this.worker = new Worker(url);
      this.worker.onmessage = (e: MessageEvent<Reply>) => this.settle(e.data);
      this.worker.onerror = (e) => {
        e.preventDefault();
        this.failAll(new Error(e.message || 'layout worker failed'));
      };
    } catch {
      this.worker = null;
    }
    this.mode = this.worker ? 'worker' : 'main-thread';
  }

  private settle(reply: Reply): void {
    const id = reply.ok ? reply.result.id : reply.id;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (reply.ok) p.resolve(reply.result);
    else p.reject(new Error(reply.error));
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** Resolves with null when a newer request superseded this one. */
  layout(req: Omit<LayoutRequest, 'id'>): Promise<LayoutResult | null> {
    const id = this.nextId++;
    for (const [oldId, p] of this.pending) {
      p.resolve(null);
      this.pending.delete(oldId);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.worker) this.worker.postMessage({ ...req, id });
      else
        setTimeout(() => {
          try {
            this.settle({ ok: true, result: layoutGraph({ ...req, id }) });
          } catch (err) {
            this.settle({ ok: false, id, error: String(err) });
          }
        }, 0);
    });
  }
}
