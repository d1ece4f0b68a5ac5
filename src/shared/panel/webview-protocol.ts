import { z } from '../protocol/zod';
import { finding, type Finding } from '../analysis/finding';
import { runState, series, type RunState } from '../model/run-state';
import { packSeries, packedSeries } from './packed-series';
import { parseWith } from '../protocol/parse';
import { sourcePosition } from '../protocol/run-data';
import { runnerEvent, type WireRunnerEvent } from '../protocol/runner-protocol';
import { encodeNonFinite } from '../protocol/wire-number';

/**
 * Messages between the extension host and the Loss Lens webview.
 *
 * Flow: the webview posts `ready`; the host answers `hydrate` (the whole RunState so far, the findings,
 * the UI defaults), then batched `append`s of runner events and `findings` replacements. The webview
 * folds appended events with the same `applyRunnerEvent` the host uses.
 *
 * This is the contract between two of our own processes, so it sits above the runner contract (protocol/): it
 * carries the run model (model/) and the findings (analysis/), and packs series (packed-series.ts).
 *
 * VS Code carries messages as JSON, so NaN and Infinity would arrive as null: every number that may be
 * non-finite travels as the strings "NaN" / "Infinity" / "-Infinity" (see wire-number.ts), and
 * `parseHostToWebview` restores the numbers. An append carries the runner's events as the runner wrote them
 * (already in that form: the host forwards the JSON it parsed, never re-encoding it); `encodeForWebview` puts
 * hydrates and findings in that form.
 */
export const WEBVIEW_PROTOCOL_VERSION = 1;

// ---- UI settings the host chooses ---------------------------------------------------------------

export const uiSettings = z.object({
  /** EMA weight in [0, 1) a fresh webview starts with (TensorBoard's default is 0.6). */
  smoothing: z.number().min(0).max(0.999),
  logScale: z.boolean(),
  /** Fold runs of identical layers into one block node: 'auto' folds graphs of more than 40 layers. */
  collapseRepeats: z.enum(['auto', 'always', 'never']),
});
export type UiSettings = z.output<typeof uiSettings>;

export const DEFAULT_UI_SETTINGS: UiSettings = { smoothing: 0.6, logScale: false, collapseRepeats: 'auto' };

// ---- host → webview ------------------------------------------------------------------------------

/** A layer or a term of the loss graph, to bring into view and select. */
export const selectTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('layer'), layer: z.string() }),
  z.object({ kind: z.literal('term'), termId: z.string() }),
]);
export type SelectTarget = z.output<typeof selectTarget>;

/** The series travel packed (packed-series.ts): a million steps must not be a million JSON numbers each. */
const hydratedRun = runState.extend({ series: z.record(z.string(), z.union([packedSeries, series])) });

export const hydrateMessage = z.object({
  type: z.literal('hydrate'),
  protocol: z.literal(WEBVIEW_PROTOCOL_VERSION),
  run: hydratedRun,
  findings: z.array(finding),
  settings: uiSettings,
  /** Compare with Decoupled Weight Decay: the decoupled what-if run, overlaid on `run` (the script as written). */
  compare: hydratedRun.nullable().default(null),
});

/** Which run an append belongs to: the panel's own, or the one it compares it with. */
export const appendTarget = z.enum(['run', 'compare']);
export type AppendTarget = z.output<typeof appendTarget>;

export const hostToWebview = z.discriminatedUnion('type', [
  hydrateMessage,
  /** Runner events in arrival order, batched by the host (one message per frame or so, never one per step). */
  z.object({ type: z.literal('append'), events: z.array(runnerEvent), target: appendTarget.default('run') }),
  /** The engine's findings for the run so far; replaces the previous list. */
  z.object({ type: z.literal('findings'), findings: z.array(finding) }),
  /** Bring a layer or term into view and select it (the editor's "Show in Loss Graph"). */
  z.object({ type: z.literal('select'), target: selectTarget }),
  /** The script (or a file of its run) was edited since this run, a quick fix included: its findings may be out of date. */
  z.object({ type: z.literal('stale'), stale: z.boolean() }),
]);
export type HostToWebview = z.output<typeof hostToWebview>;

// ---- webview → host ------------------------------------------------------------------------------

export const exportFormat = z.enum(['graph-svg', 'graph-png', 'curves-csv', 'curves-json']);
export type ExportFormat = z.output<typeof exportFormat>;

export const webviewToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), protocol: z.literal(WEBVIEW_PROTOCOL_VERSION) }),
  /** Open the user's file at this position (a layer's construction site, a finding's source). */
  z.object({ type: z.literal('revealSource'), source: sourcePosition }),
  /** Save a file: the host asks where, then writes `data` (UTF-8 text, or base64 for binary formats). */
  z.object({
    type: z.literal('export'),
    format: exportFormat,
    suggestedName: z.string(),
    mime: z.string(),
    encoding: z.enum(['utf8', 'base64']),
    data: z.string(),
  }),
  /** The panel's Cancel: stop this script's run. */
  z.object({ type: z.literal('stop') }),
  /** The panel's Re-run, once a run has ended. */
  z.object({ type: z.literal('rerun') }),
  /** Something the webview could not handle, for the host's log channel. */
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warning', 'error']), message: z.string() }),
]);
export type WebviewToHost = z.output<typeof webviewToHost>;

/** Check a message where it enters the webview. */
export const parseHostToWebview = parseWith(hostToWebview);

/** Check a message from the webview where it enters the host. */
export const parseWebviewToHost = parseWith(webviewToHost);

/**
 * A message as the host builds it: an append's events are the runner's wire JSON (what the engine parsed from
 * the channel), everything else is in memory form.
 */
export type HostMessage =
  | Exclude<HostToWebview, { type: 'append' }>
  | { type: 'append'; events: readonly WireRunnerEvent[]; target: AppendTarget };

/** A message as postMessage carries it: JSON-safe, with non-finite numbers as their names. */
export type EncodedMessage = { readonly type: HostToWebview['type'] } & Record<string, unknown>;

/**
 * Make a message JSON-safe for postMessage: a hydrate's series are packed, and non-finite numbers become their
 * names (copy-on-write, no JSON round trip: postMessage serializes once, itself). An append goes as it is: its
 * events are already the runner's wire JSON.
 */
export function encodeForWebview(message: HostMessage): EncodedMessage {
  if (message.type === 'append') return message as unknown as EncodedMessage;
  const packRun = (run: RunState) => ({ ...run, series: Object.fromEntries(Object.entries(run.series).map(([k, v]) => [k, packSeries(v)])) });
  const wire = message.type === 'hydrate' ? { ...message, run: packRun(message.run), compare: message.compare ? packRun(message.compare) : null } : message;
  return encodeNonFinite(wire) as EncodedMessage;
}

export function hydrate(run: RunState, findings: Finding[], settings: UiSettings = DEFAULT_UI_SETTINGS, compare: RunState | null = null): HostMessage {
  return { type: 'hydrate', protocol: WEBVIEW_PROTOCOL_VERSION, run, findings, settings, compare };
}

/** Runner events as the runner wrote them (wire JSON, see WireRunnerEvent), for the webview to check and fold. */
export function append(events: readonly WireRunnerEvent[], target: AppendTarget = 'run'): HostMessage {
  return { type: 'append', events, target };
}

export function replaceFindings(findings: Finding[]): HostMessage {
  return { type: 'findings', findings };
}
