import { analyzeRun } from '../../../src/shared/analysis/rules';
import { applyRunnerEvent, emptyRunState, type RunState } from '../../../src/shared/model/run-state';
import { parseRunnerFrame, type RunnerEvent, type RunnerFrame } from '../../../src/shared/protocol/runner-protocol';
import { encodeNonFinite } from '../../../src/shared/protocol/wire-number';
import type { Finding } from '../../../src/shared/analysis/finding';
import { WebviewFeed } from '../../../src/host/panel/webview-feed';
import { VersionedFindings } from '../../../src/host/panel/versioned-findings';
import { parseWebviewToHost, type WebviewToHost } from '../../../src/shared/panel/webview-protocol';
import { THEMES, THEME_CLASS, type ThemeName } from './themes';

/**
 * The harness plays the extension host: it replays a recorded runner event stream into the real panel
 * page (in an iframe, as VS Code does), at a chosen speed, through the same WebviewFeed the extension's
 * panel uses (`ready` → `hydrate`, then batched `append`s and `findings`). Everything crosses as JSON,
 * as in VS Code.
 */
interface Replay {
  name: string;
  events: RunnerEvent[];
  /** Each event as the runner wrote it: what the feed forwards, as the extension's engine hands it on. */
  wire: RunnerFrame['wire'][];
  sent: number;
  state: RunState;
}

const iframe = document.getElementById('panel') as HTMLIFrameElement;
const controls = document.getElementById('harness-controls')!;
const params = new URLSearchParams(location.search);

let replay: Replay | null = null;
/** Compare with Decoupled Weight Decay: a second stream (the what-if run), replayed beside the first. */
let compareReplay: Replay | null = null;
let theme: ThemeName = (params.get('theme') as ThemeName) || 'dark';
/** Steps per second; 0 = everything at once. */
let speed = Number(params.get('speed') ?? 20);
let paused = false;
let timer: number | null = null;
/** Findings are recomputed at most this often while a stream plays (a long run makes analyzeRun O(steps)). */
const FINDINGS_EVERY_MS = 250;
let findingsCache: { at: number; sent: number } | null = null;
/** As the extension's Run keeps them: the version moves only when the findings changed. */
const versioned = new VersionedFindings();
const received: WebviewToHost[] = [];
const rejected: string[] = [];
const exports: Array<Extract<WebviewToHost, { type: 'export' }>> = [];

function post(message: unknown): void {
  // JSON in, JSON out: what VS Code's postMessage does to a message.
  iframe.contentWindow?.postMessage(JSON.parse(JSON.stringify(message)), '*');
}

function currentFindings(r: Replay): { findings: Finding[]; findingsVersion: number } {
  const now = performance.now();
  const stale = !findingsCache || findingsCache.sent !== r.sent;
  if (stale && (!findingsCache || now - findingsCache.at >= FINDINGS_EVERY_MS || r.sent === r.events.length)) {
    findingsCache = { at: now, sent: r.sent };
    versioned.set(analyzeRun(r.state));
  }
  return { findings: versioned.findings, findingsVersion: versioned.version };
}

const feed = new WebviewFeed(
  'harness',
  {
    run: () => (replay ? { state: replay.state, ...currentFindings(replay) } : undefined),
    compare: () => compareReplay?.state,
  },
  post,
);

function applyTheme(): void {
  const doc = iframe.contentDocument;
  if (!doc?.body) return;
  const html = doc.documentElement;
  for (const [k, v] of Object.entries(THEMES[theme])) html.style.setProperty(k, v);
  for (const c of Object.values(THEME_CLASS)) doc.body.classList.remove(c);
  doc.body.classList.add(THEME_CLASS[theme]);
  doc.body.setAttribute('data-vscode-theme-kind', THEME_CLASS[theme]);
}

function parseFrames(text: string): RunnerFrame[] {
  const frames: RunnerFrame[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = parseRunnerFrame(line);
    if (r.ok) frames.push(r.value);
    else rejected.push(r.error);
  }
  return frames;
}

function parseStream(text: string): RunnerEvent[] {
  return parseFrames(text).map((f) => f.event);
}

/** Events a test hands over in memory: their wire form is made here (non-finite numbers as their names). */
const framesOf = (events: RunnerEvent[]): RunnerFrame[] => events.map((event) => ({ event, wire: encodeNonFinite(event) as RunnerFrame['wire'] }));

/** Send the next batch: every non-step event up to the next steps, and as many steps as the speed allows. */
function tick(budget: number): void {
  if (!replay) return;
  const batch: RunnerFrame['wire'][] = [];
  let steps = 0;
  while (replay.sent < replay.events.length) {
    const e = replay.events[replay.sent];
    if (e.type === 'step' && steps >= budget) break;
    if (e.type === 'step') steps++;
    batch.push(replay.wire[replay.sent]);
    applyRunnerEvent(replay.state, e);
    replay.sent++;
  }
  void feed.events(batch);
  // The compared run plays alongside, step for step (VS Code runs the two one after the other or at once).
  const c = compareReplay;
  if (c) {
    const more: RunnerFrame['wire'][] = [];
    let cSteps = 0;
    while (c.sent < c.events.length) {
      const e = c.events[c.sent];
      if (e.type === 'step' && cSteps >= budget) break;
      if (e.type === 'step') cSteps++;
      more.push(c.wire[c.sent]);
      applyRunnerEvent(c.state, e);
      c.sent++;
    }
    void feed.events(more, 'compare');
  }
  updateProgress();
}

function schedule(): void {
  if (timer !== null) clearInterval(timer);
  timer = null;
  if (!replay || paused) return;
  if (speed <= 0) {
    tick(Infinity);
    return;
  }
  const interval = Math.max(16, 1000 / speed);
  const perTick = Math.max(1, Math.round((speed * interval) / 1000));
  timer = window.setInterval(() => {
    if (!replay || replay.sent >= replay.events.length) {
      if (timer !== null) clearInterval(timer);
      timer = null;
      return;
    }
    tick(perTick);
  }, interval);
}

/** Loads in flight, held so a caller's pending promise (a test's page.evaluate) cannot be collected. */
const loading = new Set<Promise<void>>();

function loadStream(name: string, options: { speed?: number; upTo?: number; compare?: string } = {}): Promise<void> {
  const load = (async () => {
    const fetchFrames = async (n: string) => parseFrames(await (await fetch(`/streams/${encodeURIComponent(n)}.ndjson`)).text());
    const compare = options.compare ? await fetchFrames(options.compare) : null;
    loadFrames(await fetchFrames(name), name, { ...options, compareFrames: compare ?? undefined });
  })();
  loading.add(load);
  return load.finally(() => loading.delete(load));
}

function loadEvents(events: RunnerEvent[], name: string, options: { speed?: number; upTo?: number; compareEvents?: RunnerEvent[] } = {}): void {
  const { compareEvents, ...rest } = options;
  loadFrames(framesOf(events), name, { ...rest, compareFrames: compareEvents ? framesOf(compareEvents) : undefined });
}

function loadFrames(frames: RunnerFrame[], name: string, options: { speed?: number; upTo?: number; compareFrames?: RunnerFrame[] } = {}): void {
  if (options.speed !== undefined) speed = options.speed;
  // A recorded Python run (its hello names the Python it ran on) was of a .py script; the others of the TypeScript examples.
  const script = frames.some((x) => x.event.type === 'hello' && x.event.python !== undefined) ? `examples/python/${name}.py` : `examples/${name}.ts`;
  const replayOf = (n: string, f: RunnerFrame[]): Replay => ({ name: n, events: f.map((x) => x.event), wire: f.map((x) => x.wire), sent: 0, state: emptyRunState(script) });
  replay = replayOf(name, frames);
  const events = replay.events;
  compareReplay = options.compareFrames ? replayOf(`${name} (decoupled)`, options.compareFrames) : null;
  findingsCache = null;
  // Events before `upTo` are already in the host's state when the webview asks: they arrive in hydrate.
  const upTo = options.upTo ?? 0;
  while (replay.sent < Math.min(upTo, events.length)) applyRunnerEvent(replay.state, events[replay.sent++]);
  if (compareReplay) while (compareReplay.sent < Math.min(upTo, compareReplay.events.length)) applyRunnerEvent(compareReplay.state, compareReplay.events[compareReplay.sent++]);
  sendHydrate();
  schedule();
}

/** The panel's Cancel, as the extension's run controller does it: the run stops, its state says so. */
function stopReplay(): void {
  if (!replay || replay.state.end) return;
  if (timer !== null) clearInterval(timer);
  timer = null;
  replay.sent = replay.events.length;
  replay.state.end = { reason: 'stopped-by-user', exitCode: null, exitSource: null };
  replay.state.status = 'completed';
  findingsCache = null;
  void feed.hydrate();
  updateProgress();
}

function sendHydrate(): void {
  if (!replay) return;
  void feed.hydrate();
  updateProgress();
}

function updateProgress(): void {
  const p = document.getElementById('harness-progress');
  if (p && replay) p.textContent = `${replay.sent} / ${replay.events.length} events`;
}

window.addEventListener('message', (e) => {
  if (e.source !== iframe.contentWindow) return;
  const r = parseWebviewToHost(e.data);
  if (!r.ok) {
    rejected.push(r.error);
    return;
  }
  received.push(r.value);
  if (r.value.type === 'ready') {
    applyTheme();
    void feed.onReady();
    updateProgress();
  } else if (r.value.type === 'stop') {
    stopReplay();
  } else if (r.value.type === 'rerun') {
    if (replay) loadFrames(replay.events.map((event, i) => ({ event, wire: replay!.wire[i] })), replay.name, {});
  } else if (r.value.type === 'export') {
    exports.push(r.value);
    const a = document.createElement('a');
    a.download = r.value.suggestedName;
    a.textContent = `download ${r.value.suggestedName}`;
    const blob =
      r.value.encoding === 'base64'
        ? new Blob([Uint8Array.from(atob(r.value.data), (c) => c.charCodeAt(0))], { type: r.value.mime })
        : new Blob([r.value.data], { type: r.value.mime });
    a.href = URL.createObjectURL(blob);
    document.getElementById('harness-exports')?.replaceChildren(a);
  }
});
iframe.addEventListener('load', applyTheme);

function label(parent: HTMLElement, text: string, control: HTMLElement): void {
  const l = document.createElement('label');
  l.textContent = text;
  l.appendChild(control);
  parent.appendChild(l);
}

async function buildControls(): Promise<void> {
  const names: string[] = await (await fetch('/streams/index.json')).json();
  const streamSelect = document.createElement('select');
  for (const n of names) streamSelect.add(new Option(n, n));
  streamSelect.value = params.get('stream') ?? 'custom-loop-drops-penalty';
  const compareSelect = document.createElement('select');
  compareSelect.add(new Option('(none)', ''));
  for (const n of names) compareSelect.add(new Option(n, n));
  compareSelect.value = params.get('compare') ?? '';
  const load = () => void loadStream(streamSelect.value, { compare: compareSelect.value || undefined });
  streamSelect.addEventListener('change', load);
  compareSelect.addEventListener('change', load);
  label(controls, 'Stream ', streamSelect);
  label(controls, 'Compare with ', compareSelect);
  const speedInput = document.createElement('input');
  speedInput.type = 'number';
  speedInput.min = '0';
  speedInput.value = String(speed);
  speedInput.title = 'steps per second (0: all at once)';
  speedInput.addEventListener('change', () => {
    speed = Number(speedInput.value);
    schedule();
  });
  label(controls, 'Steps/s ', speedInput);
  const pause = document.createElement('button');
  pause.textContent = 'Pause';
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Play' : 'Pause';
    schedule();
  });
  controls.appendChild(pause);
  const themeSelect = document.createElement('select');
  for (const t of Object.keys(THEMES)) themeSelect.add(new Option(t, t));
  themeSelect.value = theme;
  themeSelect.addEventListener('change', () => {
    theme = themeSelect.value as ThemeName;
    applyTheme();
  });
  label(controls, 'Theme ', themeSelect);
  const reload = document.createElement('button');
  reload.textContent = 'Reload webview';
  reload.title = 'Reload the panel page: UI state must come back from getState, data from hydrate';
  reload.addEventListener('click', () => harness.reload());
  controls.appendChild(reload);
  const progress = document.createElement('span');
  progress.id = 'harness-progress';
  progress.className = 'progress';
  controls.appendChild(progress);
  const ex = document.createElement('span');
  ex.id = 'harness-exports';
  controls.appendChild(ex);
  await loadStream(streamSelect.value, { compare: compareSelect.value || undefined });
}

/** The API the tests and the benchmark drive. */
const harness = {
  loadStream,
  loadEvents,
  parseStream,
  post,
  feed,
  setTheme(t: ThemeName) {
    theme = t;
    applyTheme();
  },
  setSpeed(s: number) {
    speed = s;
    schedule();
  },
  /** Send everything left at once. */
  flush() {
    tick(Infinity);
  },
  reload(): Promise<void> {
    return new Promise((resolve) => {
      iframe.addEventListener('load', () => resolve(), { once: true });
      iframe.contentWindow?.location.reload();
    });
  },
  get state() {
    return replay?.state ?? null;
  },
  get compareState() {
    return compareReplay?.state ?? null;
  },
  get done() {
    return !!replay && replay.sent >= replay.events.length && (!compareReplay || compareReplay.sent >= compareReplay.events.length);
  },
  received,
  rejected,
  exports,
};
(window as unknown as { harness: typeof harness }).harness = harness;

if (params.get('autoload') !== '0') void buildControls();
