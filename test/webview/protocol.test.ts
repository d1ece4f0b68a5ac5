import { describe, expect, it } from 'vitest';
import { analyzeRun } from '../../src/shared/analysis/rules';
import {
  append,
  encodeForWebview,
  hydrate,
  parseHostToWebview,
  parseWebviewToHost,
  WEBVIEW_PROTOCOL_VERSION,
} from '../../src/shared/panel/webview-protocol';
import { contentSecurityPolicy, escapeHtml, renderWebviewHtml } from '../../src/host/panel/webview-html';
import { readStream, replayStream } from './helpers/streams';

/** What VS Code's postMessage does to a message: JSON both ways. */
const overJson = (m: unknown) => JSON.parse(JSON.stringify(m));

describe('webview protocol', () => {
  it('a hydrate of a run that went NaN survives JSON transport with its non-finite numbers', () => {
    const state = replayStream('nan-loss');
    const r = parseHostToWebview(overJson(encodeForWebview(hydrate(state, analyzeRun(state)))));
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.type !== 'hydrate') return;
    const before = state.series[0].totalLoss;
    const after = r.value.run.series['0'].totalLoss;
    expect(after).toHaveLength(before.length);
    for (let i = 0; i < before.length; i++) expect(Object.is(after[i], before[i]) || after[i] === before[i]).toBe(true);
    expect(before.some((v) => Number.isNaN(v))).toBe(true);
    expect(before.some((v) => v === Infinity)).toBe(true);
    expect(r.value.findings.map((f) => f.ruleId)).toContain('non-finite-loss');
  });

  it('appends carry runner events in order and are checked on the way in', () => {
    const events = readStream('custom-loop-with-penalty');
    const r = parseHostToWebview(overJson(encodeForWebview(append(events))));
    expect(r.ok && r.value.type === 'append' && r.value.events.map((e) => e.type)).toEqual(events.map((e) => e.type));
    const broken = overJson(encodeForWebview(append(events)));
    broken.events[events.findIndex((e) => e.type === 'step')].record.totalLoss = { evil: true };
    expect(parseHostToWebview(broken).ok).toBe(false);
  });

  it('a hydrate carries its series packed: a few strings, not one JSON number per row', () => {
    const state = replayStream('fit-cnn-with-decay');
    const wire = overJson(encodeForWebview(hydrate(state, [])));
    const series = wire.run.series['0'];
    expect(series.packed).toBe(1);
    expect(series.columns.step).toEqual({ seq: [1, 1] });
    for (const col of [series.columns.totalLoss, ...Object.values(series.weightNorms)]) expect(typeof (col as { f64: string }).f64).toBe('string');
    const r = parseHostToWebview(wire);
    expect(r.ok && r.value.type === 'hydrate' && r.value.run.series['0']).toEqual(state.series[0]);
  });

  it('the panel may ask to stop or re-run its run, and nothing else of the kind', () => {
    expect(parseWebviewToHost({ type: 'stop' }).ok).toBe(true);
    expect(parseWebviewToHost({ type: 'rerun' }).ok).toBe(true);
    expect(parseWebviewToHost({ type: 'stop', script: '/etc/passwd' }).ok).toBe(true);
    expect(parseWebviewToHost({ type: 'start', script: 'x.ts' }).ok).toBe(false);
  });

  it('rejects unknown, numeric and malformed messages in both directions', () => {
    for (const m of [null, 42, 'hydrate', { type: 0 }, { type: 'hydrate' }, { type: 'select', target: { kind: 'node' } }, { type: 'eval', code: '1' }]) {
      expect(parseHostToWebview(m).ok).toBe(false);
    }
    expect(parseWebviewToHost({ type: 'ready', protocol: WEBVIEW_PROTOCOL_VERSION }).ok).toBe(true);
    expect(parseWebviewToHost({ type: 'ready', protocol: 99 }).ok).toBe(false);
    expect(parseWebviewToHost({ type: 'revealSource', source: { file: 'a.ts', line: 3, column: 1 } }).ok).toBe(true);
    expect(parseWebviewToHost({ type: 'revealSource', source: { file: 'a.ts', line: '3' } }).ok).toBe(false);
    expect(parseWebviewToHost({ type: 'export', format: 'graph-exe', suggestedName: 'x', mime: 'x', encoding: 'utf8', data: '' }).ok).toBe(false);
  });
});

describe('panel HTML', () => {
  const nonce = 'AbCdEfGhIjKlMnOpQrStUv';
  const html = renderWebviewHtml({ scriptUri: 'https://res.test/main.js', styleUri: 'https://res.test/main.css', cspSource: 'https://res.test', nonce });

  it('has a nonce CSP with nothing inline, nothing eval, nothing remote', () => {
    const csp = contentSecurityPolicy('https://res.test', nonce);
    expect(html).toContain(`content="${escapeHtml(csp)}"`);
    expect(csp).toContain(`script-src 'nonce-${nonce}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:(?!\/\/res\.test)/);
    expect(html).not.toMatch(/style="/);
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toContain(`nonce="${nonce}"`);
  });

  it('paints the script name and "Starting…" itself, before any script runs, with names made safe', () => {
    const page = renderWebviewHtml({ scriptUri: 's', styleUri: 's', cspSource: 'c', nonce, script: '/w/<b>evil\u202egnp.ts' });
    expect(page).toContain('<span class="ll-script" title="/w/&lt;b&gt;evil\\u202egnp.ts">&lt;b&gt;evil\\u202egnp.ts</span>');
    expect(page).toContain('<span class="ll-phase-text">Starting…</span>');
    expect(page).toMatch(/<button type="button" class="ll-button ll-run-action"[^>]*>Cancel<\/button>/);
    // The real path is kept only where nothing displays it: the attribute the page reads it back from.
    expect(page).toContain('data-script="/w/&lt;b&gt;evil\u202egnp.ts"');
    expect(page.replace(/data-script="[^"]*"/, '')).not.toContain('\u202e');
  });

  it('escapes what it is given and refuses a weak nonce', () => {
    const evil = renderWebviewHtml({ scriptUri: '"><script>x</script>', styleUri: 's', cspSource: 'c', nonce, title: '<b>t</b>' });
    expect(evil).not.toContain('<script>x');
    expect(evil).toContain('&lt;b&gt;t&lt;/b&gt;');
    expect(() => renderWebviewHtml({ scriptUri: 's', styleUri: 's', cspSource: 'c', nonce: 'short' })).toThrow();
  });
});
