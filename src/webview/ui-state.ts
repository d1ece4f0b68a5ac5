import { z } from '../shared/protocol/zod';

/**
 * What the webview remembers across reloads and tab switches (VS Code's getState/setState):
 * only view choices, never run data, which always comes from the host on `ready`.
 */
export const uiState = z.object({
  version: z.literal(1),
  /** The script this panel shows: a restored panel (after a window reload) asks the host for it. */
  script: z.string().nullable().default(null),
  graph: z.object({
    transform: z.object({ x: z.number(), y: z.number(), k: z.number().positive() }).nullable(),
    /** The saved view was a fit, not the user's: a reload fits again, to the panel it then has (issue 21). */
    fitted: z.boolean().default(false),
    expanded: z.array(z.string()),
    /** null: not chosen by the user, follow the host's setting. */
    collapseRepeats: z.boolean().nullable(),
    selected: z.string().nullable(),
    search: z.string(),
    /** Left to right, top down, or chosen from the panel's shape ('auto'). */
    direction: z.enum(['auto', 'LR', 'TB']).default('auto'),
  }),
  curves: z.object({
    smoothing: z.number().min(0).max(0.999),
    logScale: z.boolean(),
    /** Visible step range; null follows the run's newest step. */
    xDomain: z.tuple([z.number(), z.number()]).nullable(),
    objective: z.number().int().nullable(),
    hidden: z.array(z.string()),
    /** The weight-norm chart's filter box, and "show all" (else the layers that changed most, and the decayed ones). */
    normFilter: z.string().default(''),
    allNorms: z.boolean().default(false),
  }),
});
export type UiState = z.output<typeof uiState>;

export function defaultUiState(smoothing: number, logScale: boolean): UiState {
  return {
    version: 1,
    script: null,
    graph: { transform: null, fitted: false, expanded: [], collapseRepeats: null, selected: null, search: '', direction: 'auto' },
    curves: { smoothing, logScale, xDomain: null, objective: null, hidden: [], normFilter: '', allNorms: false },
  };
}

export function parseUiState(raw: unknown): UiState | null {
  const r = uiState.safeParse(raw);
  return r.success ? r.data : null;
}
