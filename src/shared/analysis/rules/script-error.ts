import { defineRule } from './rule';

export const scriptError = defineRule({
  id: 'script-error',
  severity: 'error',
  name: 'ScriptError',
  summary: 'The script failed.',
  help: 'The report still holds everything captured before the failure.',
  firesWhen: 'a build error, or the script threw / exited non-zero (at the first frame in your code)',
  // Two build errors at one line are two errors: each keeps its own message.
  foldsBySource: false,
  check: ({ state }) => {
    const build = state.buildErrors.map((b) => ({ message: `Build error: ${b.message}`, source: b.source }));
    const e = state.error;
    if (!e) return build;
    return [...build, { message: `${e.name}: ${e.message}`, source: e.source }];
  },
});
