import type { LayoutResult } from './dagre-layout';
import type { LayoutClient } from './layout-client';
import type { LayoutJob } from './layout-job';

/**
 * The layouts a fold-to-fit tries for one structure (each fold step, both directions) are kept, so a resize or a
 * new set of values lays out again only what it has not seen.
 */
const CACHED = 16;

/**
 * Layouts for the panel: the recent ones are reused when nothing that moves a node changed (new values only, a
 * fold step tried before), and a request superseded by a newer one resolves null, so only the newest is drawn.
 */
export class GraphLayouter {
  private key = '';
  private readonly cache = new Map<string, LayoutResult>();
  /** The last layout that ran, in ms (0 when a cached one was reused). */
  lastMs = 0;

  constructor(private readonly client: LayoutClient) {}

  /** A layout is cached for this job: no worker round trip. */
  cached(job: LayoutJob): LayoutResult | null {
    return this.cache.get(job.key) ?? null;
  }

  async layout(job: LayoutJob): Promise<LayoutResult | null> {
    const hit = this.cached(job);
    if (hit) {
      this.lastMs = 0;
      // The newest used last: the oldest is the one dropped.
      this.cache.delete(job.key);
      this.cache.set(job.key, hit);
      return hit;
    }
    const key = (this.key = job.key);
    const t0 = performance.now();
    const result = await this.client.layout(job.request);
    if (!result || key !== this.key) return null;
    this.lastMs = performance.now() - t0;
    this.cache.set(key, result);
    if (this.cache.size > CACHED) this.cache.delete(this.cache.keys().next().value!);
    return result;
  }

  /** A newer job was started elsewhere (or none): results of older ones are dropped. */
  isCurrent(job: LayoutJob): boolean {
    return job.key === this.key || this.cache.has(job.key);
  }
}
