import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/shared/analysis/finding';
import { makeFinding } from '../../src/shared/analysis/rules/registry';
import { applyRunnerEvent, emptyRunState } from '../../src/shared/model/run-state';
import { parseWith } from '../../src/shared/protocol/parse';
import { WebviewFeed } from '../../src/host/panel/webview-feed';
import { hostToWebview, type EncodedMessage } from '../../src/shared/panel/webview-protocol';
import { z } from '../../src/shared/protocol/zod';
import { readStream } from '../helpers/events';

function harness() {
  const state = emptyRunState('/ws/train.ts');
  let findings: Finding[] = [];
  const sent: EncodedMessage[] = [];
  const feed = new WebviewFeed('/ws/train.ts', { run: () => ({ state, findings }) }, (m) => sent.push(m));
  return { state, feed, sent, setFindings: (f: Finding[]) => (findings = f) };
}

describe('the webview feed', () => {
  it('sends nothing before ready, then hydrate, then appends', async () => {
    const h = harness();
    const events = readStream('custom-loop-with-penalty');
    await h.feed.events(events.slice(0, 3));
    await h.feed.hydrate();
    expect(h.sent).toEqual([]);
    await h.feed.onReady();
    for (const e of events.slice(0, 3)) applyRunnerEvent(h.state, e);
    await h.feed.events(events.slice(3, 6));
    expect(h.sent.map((m) => m.type)).toEqual(['hydrate', 'append']);
    // Every message it sends passes the webview's own check.
    for (const m of h.sent) expect(hostToWebview.safeParse(m).success).toBe(true);
  });

  it('sends findings only when they changed, and a select asked early after the first hydrate', async () => {
    const h = harness();
    await h.feed.select({ kind: 'layer', layer: 'dense_Dense1' });
    expect(h.sent).toEqual([]);
    await h.feed.onReady();
    expect(h.sent.map((m) => m.type)).toEqual(['hydrate', 'select']);
    const events = readStream('custom-loop-with-penalty');
    await h.feed.events(events.slice(0, 2));
    expect(h.sent.filter((m) => m.type === 'findings')).toHaveLength(0);
    h.setFindings([makeFinding('no-training-step', 'no step yet')]);
    await h.feed.events(events.slice(2, 4));
    await h.feed.events(events.slice(4, 6));
    expect(h.sent.filter((m) => m.type === 'findings')).toHaveLength(1);
    expect(h.feed.sent).toEqual({ hydrate: 1, append: 3, findings: 1, select: 1, stale: 0, compareAppend: 0, compareHydrate: 0 });
  });
});

describe('parseWith', () => {
  it('never throws and says where a message is wrong', () => {
    const check = parseWith(z.object({ a: z.object({ b: z.number() }) }));
    expect(check({ a: { b: 1 } })).toEqual({ ok: true, value: { a: { b: 1 } } });
    const bad = check({ a: { b: 'x' } });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toContain('a.b');
    expect(check(undefined).ok).toBe(false);
  });

  it('says a run is stale once, tells a reloaded webview again after its hydrate, and clears it for a new run', async () => {
    const h = harness();
    await h.feed.markStale(true);
    expect(h.sent).toEqual([]);
    await h.feed.onReady();
    expect(h.sent.map((m) => m.type)).toEqual(['hydrate', 'stale']);
    await h.feed.markStale(true);
    expect(h.sent).toHaveLength(2);
    await h.feed.markStale(false);
    expect(h.sent[2]).toEqual({ type: 'stale', stale: false });
    for (const m of h.sent) expect(hostToWebview.safeParse(m).success).toBe(true);
    await h.feed.hydrate();
    expect(h.sent.map((m) => m.type)).toEqual(['hydrate', 'stale', 'stale', 'hydrate']);
  });
});
