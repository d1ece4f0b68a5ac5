import type { LayoutResult } from './dagre-layout';
import type { LayoutClient } from './layout-client';
import type { LayoutJob } from './layout-job';

/**
 * Layouts for the panel: the last one is reused when nothing that moves a node changed (new values only),
 * and a request superseded by a newer one resolves null, so only the newest layout is ever drawn.
 */
export class GraphLayouter {
  private key = '';
  private cache: { key: string; result: LayoutResult } | null = null;
  /** The last layout that ran, in ms (0 when the cached one was reused). */
  lastMs = 0;

  constructor(private readonly client: LayoutClient) {}

  /** A layout is cached for this job: no worker round trip. */
  cached(job: LayoutJob): LayoutResult | null {
    return this.cache?.key === job.key ? this.cache.result : null;
  }

  async layout(job: LayoutJob): Promise<LayoutResult | null> {
    const hit = this.cached(job);
    if (hit) return hit;
    const key = (this.key = job.key);
    const t0 = performance.now();
    const result = await this.client.layout(job.request);
    if (!result || key !== this.key) return null;
    this.lastMs = performance.now() - t0;
    this.cache = { key, result };
    return result;
  }

  /** A newer job was started elsewhere (or none): results of older ones are dropped. */
  isCurrent(job: LayoutJob): boolean {
    return job.key === this.key || this.cache?.key === job.key;
  }
}
