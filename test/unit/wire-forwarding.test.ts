// Each event is encoded once: the host forwards the JSON the runner wrote, the webview checks it where it enters.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFinding } from '../../src/shared/analysis/rules/registry';
import { WebviewFeed } from '../../src/host/panel/webview-feed';
import { sameValue, VersionedFindings } from '../../src/host/panel/versioned-findings';
import { applyRunnerEvent, emptyRunState, recordProtocolError, stateVersion } from '../../src/shared/model/run-state';
import { parseHostToWebview, type EncodedMessage } from '../../src/shared/panel/webview-protocol';
import { parseRunnerEvent, parseRunnerFrame, type WireRunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { encodeNonFinite } from '../../src/shared/protocol/wire-number';
import { FIXTURES } from '../helpers/events';

const lines = (name: string) =>
  fs
    .readFileSync(path.join(FIXTURES, 'streams', `${name}.ndjson`), 'utf8')
    .split('\n')
    .filter((l) => l.trim());

describe('a runner frame', () => {
  it('gives the checked event and, untouched, the JSON the runner wrote (non-finite numbers still their names)', () => {
    for (const line of lines('nan-loss')) {
      const frame = parseRunnerFrame(line);
      expect(frame.ok).toBe(true);
      if (!frame.ok) return;
      expect(frame.value.wire).toEqual(JSON.parse(line));
      expect(frame.value.event).toEqual((parseRunnerEvent(line) as { value: unknown }).value);
    }
    const steps = lines('nan-loss').map((l) => parseRunnerFrame(l)).flatMap((f) => (f.ok && f.value.event.type === 'step' ? [f.value] : []));
    const nan = steps.find((s) => s.event.type === 'step' && Number.isNaN(s.event.record.totalLoss));
    expect(nan && (nan.wire as { record: { totalLoss: unknown } }).record.totalLoss).toBe('NaN');
  });

  it('a bad frame is an error, as before, and gives nothing', () => {
    expect(parseRunnerFrame('{"type":"step"}').ok).toBe(false);
    expect(parseRunnerFrame('not json').ok).toBe(false);
  });
});

describe('the feed forwards the runner JSON', () => {
  it('posts the very objects it was given, and the webview reads the same events the host folded in', async () => {
    const frames = lines('nan-loss').map((l) => parseRunnerFrame(l)).flatMap((f) => (f.ok ? [f.value] : []));
    const state = emptyRunState('/ws/train.ts');
    const sent: EncodedMessage[] = [];
    const feed = new WebviewFeed('/ws/train.ts', { run: () => ({ state, findings: [] }) }, (m) => sent.push(m));
    await feed.onReady();
    for (const f of frames) applyRunnerEvent(state, f.event);
    const wire: WireRunnerEvent[] = frames.map((f) => f.wire);
    await feed.events(wire);
    const append = sent.find((m) => m.type === 'append') as EncodedMessage & { events: unknown[] };
    expect(append.events).toBe(wire);
    // What VS Code's postMessage does, then the webview's own check.
    const arrived = parseHostToWebview(JSON.parse(JSON.stringify(append)));
    expect(arrived.ok).toBe(true);
    if (!arrived.ok || arrived.value.type !== 'append') return;
    expect(arrived.value.events).toEqual(frames.map((f) => f.event));
  });

  it('names non-finite numbers without copying what has none', () => {
    const finite = { a: [1, 2, { b: 3 }], c: 'x' };
    expect(encodeNonFinite(finite)).toBe(finite);
    const mixed = { a: [1, Number.NaN, { b: Infinity }], keep: { d: 1 } };
    const out = encodeNonFinite(mixed) as typeof mixed;
    expect(out).toEqual({ a: [1, 'NaN', { b: 'Infinity' }], keep: { d: 1 } });
    expect(out.keep).toBe(mixed.keep);
    expect(mixed.a[1]).toBeNaN();
    expect(encodeNonFinite(-Infinity)).toBe('-Infinity');
  });
});

describe('versions instead of comparisons', () => {
  it('the reducer bumps the state version on every change it makes', () => {
    const state = emptyRunState('/ws/train.ts');
    let last = stateVersion(state);
    for (const line of lines('custom-loop-with-penalty')) {
      const r = parseRunnerEvent(line);
      if (!r.ok) throw new Error(r.error);
      applyRunnerEvent(state, r.value);
      if (r.value.type === 'hello') continue;
      expect(stateVersion(state)).toBeGreaterThan(last);
      last = stateVersion(state);
    }
    recordProtocolError(state, 'x: expected number');
    expect(stateVersion(state)).toBeGreaterThan(last);
    expect(stateVersion(emptyRunState('/ws/other.ts'))).toBe(0);
  });

  it('findings get a new version only when they really changed', () => {
    const v = new VersionedFindings();
    v.set([]);
    expect(v.version).toBe(1);
    v.set([]);
    expect(v.version).toBe(1);
    v.set([makeFinding('no-training-step', 'no step yet')]);
    expect(v.version).toBe(2);
    const same = [makeFinding('no-training-step', 'no step yet')];
    v.set(same);
    expect(v.version).toBe(2);
    expect(v.findings).not.toBe(same);
    v.set([makeFinding('no-training-step', 'still no step')]);
    expect(v.version).toBe(3);
    expect(sameValue({ a: [1, Number.NaN] }, { a: [1, Number.NaN] })).toBe(true);
    expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameValue([1], { 0: 1 })).toBe(false);
  });

  it('the feed sends findings again only when their version moved', async () => {
    const state = emptyRunState('/ws/train.ts');
    const v = new VersionedFindings();
    v.set([]);
    const sent: EncodedMessage[] = [];
    const feed = new WebviewFeed('/ws/train.ts', { run: () => ({ state, findings: v.findings, findingsVersion: v.version }) }, (m) => sent.push(m));
    await feed.onReady();
    const wire = lines('custom-loop-with-penalty').map((l) => JSON.parse(l) as WireRunnerEvent);
    await feed.events(wire.slice(0, 2));
    v.set([makeFinding('no-training-step', 'no step yet')]);
    await feed.events(wire.slice(2, 4));
    v.set([makeFinding('no-training-step', 'no step yet')]);
    await feed.events(wire.slice(4, 6));
    expect(sent.map((m) => m.type)).toEqual(['hydrate', 'append', 'append', 'findings', 'append']);
  });
});
