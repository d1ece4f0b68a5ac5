import { z } from './zod';
import { finding, type Finding } from '../analysis/finding';
import type { RunState } from '../model/run-store';
import {
  backendInfo,
  layerInfo,
  lossGraph,
  optimizerInfo,
  scriptError,
  sourcePosition,
} from './model';
import { endReason, runnerEvent, type ParseResult, type RunnerEvent } from './runner-protocol';
import { nonFiniteReplacer, wireNumber } from './wire-number';

/**
 * Messages between the extension host and the Loss Lens webview.
 *
 * Flow: the webview posts `ready`; the host answers `hydrate` (the whole RunState so far, the findings,
 * the UI defaults), then batched `append`s of runner events and `findings` replacements. The webview
 * folds appended events with the same `applyRunnerEvent` the host uses.
 *
 * VS Code carries messages as JSON, so NaN and Infinity would arrive as null: every number that may be
 * non-finite travels as the strings "NaN" / "Infinity" / "-Infinity" (see wire-number.ts). Use
 * `encodeForWebview` on the host side; `parseHostToWebview` restores the numbers.
 */
export const WEBVIEW_PROTOCOL_VERSION = 1;

// ---- the RunState snapshot ---------------------------------------------------------------------

const nullableWire = wireNumber.nullable();

export const seriesSnapshot = z.object({
  step: z.array(z.number().int()),
  totalLoss: z.array(wireNumber),
  dataLoss: z.array(wireNumber),
  regularizationLoss: z.array(wireNumber),
  learningRate: z.array(nullableWire),
  wallMs: z.array(z.number()),
  terms: z.record(z.string(), z.array(nullableWire)),
  weightNorms: z.record(z.string(), z.array(nullableWire)),
  termInLossSteps: z.record(z.string(), z.number().int()),
});

export const runStatus = z.enum(['running', 'completed', 'step-limit', 'timeout', 'failed']);

export const runStateSnapshot = z.object({
  script: z.string(),
  status: runStatus,
  backend: backendInfo.nullable(),
  notices: z.array(z.string()),
  layers: z.array(layerInfo),
  /** Keyed by objective; JSON object keys are strings. */
  optimizers: z.record(z.string(), optimizerInfo),
  graphs: z.record(z.string(), lossGraph),
  series: z.record(z.string(), seriesSnapshot),
  error: scriptError.extend({ phase: z.enum(['build', 'run']) }).nullable(),
  buildErrors: z.array(z.object({ message: z.string(), source: sourcePosition.nullable() })),
  end: z
    .object({
      reason: z.union([endReason, z.enum(['timeout', 'killed', 'stopped-by-user'])]),
      exitCode: z.number().int().nullable(),
      exitSource: sourcePosition.nullable(),
    })
    .nullable(),
  protocolErrors: z.number().int(),
});

// The schema's output must be a RunState: a change on either side breaks the build here.
type SnapshotIsRunState = z.output<typeof runStateSnapshot> extends RunState ? true : never;
const snapshotIsRunState: SnapshotIsRunState = true;
void snapshotIsRunState;

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

export const selectTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('layer'), layer: z.string() }),
  z.object({ kind: z.literal('term'), termId: z.string() }),
]);
export type SelectTarget = z.output<typeof selectTarget>;

export const hydrateMessage = z.object({
  type: z.literal('hydrate'),
  protocol: z.literal(WEBVIEW_PROTOCOL_VERSION),
  run: runStateSnapshot,
  findings: z.array(finding),
  settings: uiSettings,
});

export const hostToWebview = z.discriminatedUnion('type', [
  hydrateMessage,
  /** Runner events in arrival order, batched by the host (one message per frame or so, never one per step). */
  z.object({ type: z.literal('append'), events: z.array(runnerEvent) }),
  /** The engine's findings for the run so far; replaces the previous list. */
  z.object({ type: z.literal('findings'), findings: z.array(finding) }),
  /** Bring a layer or term into view and select it (e.g. from an editor command). */
  z.object({ type: z.literal('select'), target: selectTarget }),
]);
export type HostToWebview = z.output<typeof hostToWebview>;
export type HydrateMessage = z.output<typeof hydrateMessage>;

// ---- webview → host ------------------------------------------------------------------------------

export const exportFormat = z.enum(['graph-svg', 'graph-png', 'curves-csv', 'curves-json']);
export type ExportFormat = z.output<typeof exportFormat>;

export const webviewToHost = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), protocol: z.literal(WEBVIEW_PROTOCOL_VERSION) }),
  /** Open the user's file at this position (a layer's construction site, a finding's source). */
  z.object({ type: z.literal('revealSource'), source: sourcePosition }),
  /** The user selected a node of the loss graph. */
  z.object({
    type: z.literal('selectNode'),
    nodeId: z.string(),
    layer: z.string().nullable(),
    termId: z.string().nullable(),
  }),
  /** Save a file: the host asks where, then writes `data` (UTF-8 text, or base64 for binary formats). */
  z.object({
    type: z.literal('export'),
    format: exportFormat,
    suggestedName: z.string(),
    mime: z.string(),
    encoding: z.enum(['utf8', 'base64']),
    data: z.string(),
  }),
  /** Something the webview could not handle, for the host's log channel. */
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warning', 'error']), message: z.string() }),
]);
export type WebviewToHost = z.output<typeof webviewToHost>;

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Check a message where it enters the webview. */
export function parseHostToWebview(message: unknown): ParseResult<HostToWebview> {
  const r = hostToWebview.safeParse(message);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: describe(r.error) };
}

/** Check a message from the webview where it enters the host. */
export function parseWebviewToHost(message: unknown): ParseResult<WebviewToHost> {
  const r = webviewToHost.safeParse(message);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: describe(r.error) };
}

/** Make a message JSON-safe for postMessage: non-finite numbers become their names. */
export function encodeForWebview<T>(message: T): unknown {
  return JSON.parse(JSON.stringify(message, nonFiniteReplacer));
}

export function hydrate(run: RunState, findings: Finding[], settings: UiSettings = DEFAULT_UI_SETTINGS): unknown {
  return encodeForWebview({ type: 'hydrate', protocol: WEBVIEW_PROTOCOL_VERSION, run, findings, settings });
}

export function append(events: RunnerEvent[]): unknown {
  return encodeForWebview({ type: 'append', events });
}
