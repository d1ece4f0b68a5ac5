import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import {
  parseRunnerEvent,
  RUNNER_PROTOCOL_VERSION,
  TELEMETRY_FD,
  type HostToRunner,
  type RunnerEvent,
} from '../shared/protocol/runner-protocol';
import type { RunnerLaunch } from './run-options';

export interface RunnerProcessOptions extends RunnerLaunch {
  bundlePath: string;
  userSources: string[];
  env?: NodeJS.ProcessEnv;
  onEvent: (event: RunnerEvent) => void;
}

export interface RunnerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why the host ended it, if the host did. */
  killedBy: 'timeout' | 'stop' | null;
}

const KILL_GRACE_MS = 2000;

/**
 * Owns one runner child process: starts it in its own process group, reads typed events from
 * its telemetry pipe (fd 3), and makes sure that neither it nor anything it spawned outlives the run.
 */
export class RunnerProcess {
  private child: ChildProcess | null = null;
  private killedBy: RunnerExit['killedBy'] = null;
  private readonly exited: Promise<RunnerExit>;
  private resolveExit!: (exit: RunnerExit) => void;

  constructor(private readonly options: RunnerProcessOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  start(): Promise<RunnerExit> {
    const o = this.options;
    const child = spawn(o.nodePath ?? process.execPath, ['--enable-source-maps', o.runnerPath], {
      cwd: o.cwd ?? process.cwd(),
      env: { ...process.env, ...o.env, ELECTRON_RUN_AS_NODE: '1' },
      // stdin closed, stdout/stderr passed through, fd 3 telemetry, fd 4 IPC for control.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'ipc'],
      // Its own process group, so a stop can take the script's children with it.
      detached: true,
    });
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (t: string) => o.onOutput?.('stdout', t));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => o.onOutput?.('stderr', t));
    const telemetryDone = readLines(child.stdio[TELEMETRY_FD] as Readable, (line) => {
      const parsed = parseRunnerEvent(line);
      if (parsed.ok) o.onEvent(parsed.value);
      else o.onProtocolError?.(parsed.error);
    });
    child.on('error', (err) => {
      o.onOutput?.('stderr', `loss-lens: could not start the runner: ${err.message}\n`);
      this.resolveExit({ code: null, signal: null, killedBy: this.killedBy });
    });
    child.on('exit', (code, signal) => {
      // Whatever the script left running goes with it.
      this.killGroup('SIGKILL');
      void Promise.race([telemetryDone, delay(KILL_GRACE_MS)]).then(() =>
        this.resolveExit({ code, signal, killedBy: this.killedBy }),
      );
    });
    this.send({
      type: 'init',
      protocol: RUNNER_PROTOCOL_VERSION,
      bundlePath: o.bundlePath,
      scriptPath: o.scriptPath,
      userSources: o.userSources,
      steps: o.steps,
      backend: o.backend,
      instrument: o.instrument ?? true,
      weightDecay: o.weightDecay ?? 'as-written',
      measureDecay: o.measureDecay ?? true,
    });
    return this.exited;
  }

  /** Ask politely, then SIGTERM the group, then SIGKILL it: a synchronous loop never reads IPC. */
  async stop(reason: 'timeout' | 'stop'): Promise<RunnerExit> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.killedBy ??= reason;
    this.send({ type: 'stop' });
    const graceful = await Promise.race([this.exited.then(() => true), delay(300).then(() => false)]);
    if (!graceful) {
      this.killGroup('SIGTERM');
      const termed = await Promise.race([this.exited.then(() => true), delay(KILL_GRACE_MS).then(() => false)]);
      if (!termed) this.killGroup('SIGKILL');
    }
    return this.exited;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private send(message: HostToRunner): void {
    try {
      if (this.child?.connected) this.child.send(message);
    } catch {
      // The runner is already gone; its exit handler reports that.
    }
  }

  private killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: nothing left in the group.
    }
  }
}

function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim()) onLine(line);
      }
    });
    const done = () => {
      if (buffer.trim()) onLine(buffer);
      buffer = '';
      resolve();
    };
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
