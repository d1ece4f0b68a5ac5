/** The ids package.json contributes (commands, the panel's view type, the languages a script can be in), in one place. */
export const PANEL_VIEW_TYPE = 'lossLens.panel';
export const SHOW_IN_GRAPH_COMMAND = 'lossLens.showInGraph';
/** Compare with Decoupled Weight Decay: the script as written and its decoupled what-if, overlaid in one panel. */
export const COMPARE_COMMAND = 'lossLens.compareDecoupled';
export const VISUALIZE_COMMAND = 'lossLens.visualize';
export const SCRIPT_LANGUAGES: ReadonlySet<string> = new Set(['typescript', 'javascript', 'typescriptreact', 'javascriptreact']);
/** What Visualize runs: the tfjs scripts above, and Python (TensorFlow / Keras) on the Python runner. Quick fixes stay with SCRIPT_LANGUAGES: they write JavaScript. */
export const RUNNABLE_LANGUAGES: ReadonlySet<string> = new Set([...SCRIPT_LANGUAGES, 'python']);
/** Where "add the penalties to the minimized loss" is offered: it also writes Python (python-fix.ts); the decoupled-decay fix does not. */
export const PENALTY_FIX_LANGUAGES: ReadonlySet<string> = new Set([...SCRIPT_LANGUAGES, 'python']);
