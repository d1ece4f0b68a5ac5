/**
 * Calls `onExit(code)` once as the process exits, however it exits, from Node's own exit path rather than an
 * 'exit' listener: a script (or a library on its way out) may call process.removeAllListeners('exit'), and the
 * run must still end as it did. Every way out passes through `process.emit('exit', code)` (the natural end,
 * process.exit(), an uncaught error; Node 20 and 24 alike) or, for process.exit() called from inside an 'exit'
 * listener, `process.reallyExit(code)`. The script's own 'exit' listeners run first, so an exit code one of them
 * sets is the code reported. (signal-exit and similar libraries wrap the same two functions; wrappers chain.)
 */
export function onProcessExit(onExit: (code: number) => void): void {
  let done = false;
  const once = (code: number) => {
    if (done) return;
    done = true;
    onExit(code);
  };
  const nodeEmit = process.emit as (...a: unknown[]) => boolean;
  process.emit = function emitWithExitHook(this: NodeJS.Process, event: string | symbol, ...args: unknown[]) {
    if (event !== 'exit') return nodeEmit.call(this, event, ...args);
    try {
      return nodeEmit.call(this, event, ...args);
    } finally {
      once(exitCodeNow(args[0]));
    }
  } as typeof process.emit;
  const internal = process as unknown as { reallyExit: (code?: number) => never };
  const reallyExit = internal.reallyExit;
  internal.reallyExit = function reallyExitWithExitHook(code?: number) {
    once(exitCodeNow(code));
    return reallyExit.call(process, code);
  };
}

/** The code Node will exit with: process.exitCode as the 'exit' listeners left it, else the one given. */
function exitCodeNow(given: unknown): number {
  const code = Number(process.exitCode ?? given ?? 0);
  return Number.isInteger(code) ? code : 1;
}
