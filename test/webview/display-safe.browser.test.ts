import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarness, panelFrame, waitForGraph, waitForMessages, type HarnessSession } from './helpers/browser';
import { readStream } from './helpers/streams';

/**
 * Names and paths from the script are shown as they are, never as something else: a bidi override in a
 * layer name or a file name (U+202E "right-to-left override" makes `evil\u202egnp.ts` read as `evilst.png`)
 * and control characters appear as visible escapes, in text and in attributes (tooltips, accessible names).
 */
const RLO = '\u202e';
const ISOLATE = '\u2066';
const EVIL_LAYER = `dense${RLO}1esned${ISOLATE}`;
const EVIL_FILE = `/work/main/examples/evil${RLO}gnp.ts`;
/** Every character displaySafe() turns into an escape: C0/C1 controls (\n included) and the bidi controls. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('names and paths from the script are displayed safely', () => {
  let s: HarnessSession;
  beforeAll(async () => {
    s = await openHarness();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('bidi and control characters show as escapes everywhere the panel prints them', async () => {
    const text = JSON.stringify(readStream('custom-loop-drops-penalty'))
      .split('dense_Dense1')
      .join(EVIL_LAYER)
      .split('/work/main/examples/custom-loop-drops-penalty.ts')
      .join(EVIL_FILE);
    const events = JSON.parse(text) as unknown[];
    events.splice(2, 0, { type: 'notice', level: 'warning', message: `a notice with a bell\u0007 and ${RLO}reversed` });
    events.push({ type: 'error', error: { name: `Err${RLO}or`, message: `line one\nline two ${ISOLATE}x`, stack: null, source: null } });
    const before = await panelFrame(s.page).evaluate(() => ({ ...(window as unknown as { lossLens: { stats: { hydrates: number; appends: number } } }).lossLens.stats }));
    await s.page.evaluate(
      ([ev, name]) => (window as unknown as { harness: { loadEvents(e: unknown[], n: string, o: object): void } }).harness.loadEvents(ev, name, { speed: 0 }),
      [events, `evil${RLO}gnp`] as const,
    );
    await waitForMessages(s, before, 1);
    await waitForGraph(s);
    const f = panelFrame(s.page);
    await f.locator('g.ll-node.kind-layer').first().hover();

    const found = await f.evaluate((unsafe) => {
      const re = new RegExp(unsafe);
      const bad: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
      for (let n: Node | null = walker.currentNode; n; n = walker.nextNode()) {
        if (n.nodeType === Node.TEXT_NODE) {
          // A newline in a text node is fine only inside a multi-line message (an error), where it is meant.
          const t = (n as Text).data;
          const multiline = n.parentElement?.closest('.ll-multiline') !== null;
          if (re.test(multiline ? t.replace(/\n/g, '') : t)) bad.push(`text: ${JSON.stringify(t)}`);
        } else {
          // data-* attributes are keys the code looks nodes up by (the raw id), never shown.
          for (const a of (n as Element).attributes) if (!a.name.startsWith('data-') && re.test(a.value)) bad.push(`${(n as Element).tagName}@${a.name}: ${JSON.stringify(a.value)}`);
        }
      }
      const layerLabels = [...document.querySelectorAll('g.ll-node.kind-layer .ll-node-label')].map((t) => t.textContent ?? '');
      return {
        bad,
        layerLabels,
        tooltip: document.querySelector('.ll-tooltip-title')?.textContent ?? '',
        script: document.querySelector('.ll-script')?.textContent ?? '',
        scriptTitle: document.querySelector('.ll-script')?.getAttribute('title') ?? '',
        links: [...document.querySelectorAll('.ll-findings .ll-link')].map((l) => l.textContent ?? ''),
        notices: document.querySelector('.ll-notices')?.textContent ?? '',
        error: document.querySelector('.ll-notice-error .ll-multiline')?.textContent ?? '',
      };
    }, UNSAFE.source);

    expect(found.bad).toEqual([]);
    // The escapes are there, in plain sight, where the raw characters would have been.
    expect(found.layerLabels.some((l) => l.startsWith('dense\\u202e1esned\\u2066'))).toBe(true);
    expect(found.tooltip).toBe('dense\\u202e1esned\\u2066');
    expect(found.script).toBe('evil\\u202egnp.ts');
    expect(found.scriptTitle).toBe('examples/evil\\u202egnp.ts');
    expect(found.links.length).toBeGreaterThan(0);
    for (const l of found.links) expect(l).toMatch(/^evil\\u202egnp\.ts:\d+$/);
    expect(found.notices).toContain('a bell\\x07 and \\u202ereversed');
    // A multi-line error keeps its line break (it is a message, not a name) but loses its bidi control.
    expect(found.error).toBe('line one\nline two \\u2066x');
    expect(s.pageErrors).toEqual([]);
  });
});
