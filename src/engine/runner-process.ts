import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  parseRunnerEvent,
  RUN_MARK_ENV,
  RUNNER_PROTOCOL_VERSION,
  STOP_SIGNAL,
  type InitCommandInput,
  type RunnerEvent,
  type TranspiledModule,
} from '../shared/protocol/runner-protocol';
import type { RunnerExitFacts } from '../shared/model/run-exit';
import { killTree, type KillOptions } from './kill-tree';
import { PrivateChannel } from './private-channel';
import type { RunnerLaunch } from './run-options';

export interface RunnerProcessOptions extends RunnerLaunch {
  /** The run's private folder (mode 0700): the channel and init.json go here. */
  workDir: string;
  transpiled: Record<string, TranspiledModule>;
  requiredEsm?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  onEvent: (event: RunnerEvent) => void;
  /** For tests of each platform's branch. */
  killOptions?: Pick<KillOptions, 'system'>;
}

export interface RunnerExit extends RunnerExitFacts {
  /** Bytes that were not Loss Lens frames on the channel (someone else wrote there); they were skipped. */
  garbageBytes: number;
  /** Processes of the run still alive after the deadline (should be none). */
  survivors: number[];
}

/** How long a polite stop may take before the run's processes get SIGKILL. */
const POLITE_STOP_MS = 300;
/** How long the channel may stay open after the runner exited. */
const DRAIN_MS = 2000;

/**
 * Owns one runner process: starts it (node <runner> <init.json>, its own process group, the run's mark in its
 * environment), reads its events from the private channel, and makes sure nothing of the run outlives it.
 */
export class RunnerProcess {
  /** The mark every process of this run carries in its environment. */
  readonly mark = randomBytes(16).toString('hex');
  private child: ChildProcess | null = null;
  private killedBy: RunnerExitFacts['killedBy'] = null;
  private started = false;
  private lastStderrLine: string | null = null;
  private stderrPartial = '';
  private readonly exited: Promise<RunnerExit>;
  private resolveExit!: (exit: RunnerExit) => void;

  constructor(private readonly options: RunnerProcessOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<RunnerExit> {
    const o = this.options;
    const channel = await PrivateChannel.open(o.workDir, (json) => {
      const parsed = parseRunnerEvent(json);
      if (!parsed.ok) return o.onProtocolError?.(parsed.error);
      if (parsed.value.type === 'hello') this.started = true;
      o.onEvent(parsed.value);
    });
    const init: InitCommandInput = {
      type: 'init',
      protocol: RUNNER_PROTOCOL_VERSION,
      scriptPath: o.scriptPath,
      args: o.args ?? [],
      workDir: o.workDir,
      channel: { path: channel.path, token: channel.token },
      hostPid: process.pid,
      transpiled: o.transpiled,
      requiredEsm: o.requiredEsm ?? {},
      steps: o.steps,
      backend: o.backend,
      instrument: o.instrument ?? true,
      weightDecay: o.weightDecay ?? 'as-written',
      measureDecay: o.measureDecay ?? true,
    };
    // Holds the token: the runner deletes it as soon as it has read it, before any user code runs.
    const initPath = path.join(o.workDir, 'init.json');
    fs.writeFileSync(initPath, JSON.stringify(init), { mode: 0o600 });

    const child = spawn(o.nodePath ?? process.execPath, [o.runnerPath, initPath], {
      cwd: o.cwd ?? process.cwd(),
      env: { ...process.env, ...o.env, [RUN_MARK_ENV]: this.mark, ELECTRON_RUN_AS_NODE: '1' },
      // The script's stdin is closed; its stdout and stderr are passed through. Nothing else: fds 3 and up are
      // the runtime's own, as under plain node.
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group (POSIX), so a stop can take the script's children with it.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.child = child;
    o.onSpawn?.(child.pid, this.mark);
    child.stdout?.setEncoding('utf8').on('data', (t: string) => o.onOutput?.('stdout', t));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      this.noteStderr(t);
      o.onOutput?.('stderr', t);
    });
    let spawnError: string | null = null;
    child.on('error', (err) => {
      spawnError = err.message;
      o.onOutput?.('stderr', `loss-lens: could not start the runner: ${err.message}\n`);
      if (child.pid === undefined) void this.finish(channel, null, null, spawnError);
    });
    child.on('exit', (code, signal) => void this.finish(channel, code, signal, spawnError));
    if (this.pendingStop) void this.stop(this.pendingStop);
    return this.exited;
  }

  private noteStderr(text: string): void {
    const lines = (this.stderrPartial + text).split('\n');
    this.stderrPartial = lines.pop() ?? '';
    if (this.stderrPartial.length > 4096) this.stderrPartial = this.stderrPartial.slice(-4096);
    for (let i = lines.length - 1; i >= 0; i--) {
      if (lines[i].trim()) {
        this.lastStderrLine = lines[i];
        break;
      }
    }
  }

  private finishing = false;
  private pendingStop: 'timeout' | 'stop' | null = null;

  private async finish(channel: PrivateChannel, code: number | null, signal: NodeJS.Signals | null, spawnError: string | null): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    // Whatever the script left running goes with it: detached helpers, setsid daemons, background jobs. The
    // runner's pid is no longer its own (it may be reused): only its group and the mark count now.
    const { survivors } = await this.killRun(200, false);
    await channel.drain(DRAIN_MS);
    const s = channel.stats();
    let channelError = s.readError;
    if (!channelError && s.brokenFrames > 0) channelError = `${s.brokenFrames} frame(s) arrived with foreign bytes inside`;
    if (!channelError && s.tailBytes > 0 && this.killedBy === null && signal === null && code !== null) {
      channelError = `its last ${s.tailBytes} bytes were not a whole frame`;
    }
    if (this.stderrPartial.trim()) this.lastStderrLine = this.stderrPartial;
    this.resolveExit({
      code,
      signal,
      killedBy: this.killedBy,
      started: this.started,
      channelError: spawnError ? null : channelError,
      lastStderrLine: spawnError ? `could not start ${this.options.nodePath ?? process.execPath}: ${spawnError}` : this.lastStderrLine,
      garbageBytes: s.garbageBytes,
      survivors,
    });
  }

  private killRun(graceMs: number, runnerAlive = true) {
    const pid = this.child?.pid;
    const group = process.platform === 'win32' ? undefined : pid;
    return killTree({ mark: this.mark, rootPid: runnerAlive || process.platform === 'win32' ? pid : undefined, groupId: group, selfPid: process.pid }, { graceMs, ...this.options.killOptions });
  }

  /** Ask politely (the runner writes its end event), then SIGKILL every process of the run. */
  async stop(reason: 'timeout' | 'stop'): Promise<RunnerExit> {
    const child = this.child;
    if (!child) {
      this.pendingStop ??= reason;
      return this.exited;
    }
    if (child.exitCode !== null || child.signalCode !== null) return this.exited;
    this.killedBy ??= reason;
    if (process.platform !== 'win32' && child.pid !== undefined) {
      try {
        process.kill(child.pid, STOP_SIGNAL);
      } catch {
        // Already gone.
      }
      const polite = await Promise.race([this.exited.then(() => true), delay(POLITE_STOP_MS).then(() => false)]);
      if (polite) return this.exited;
    }
    // A synchronous loop never runs a signal handler: no more asking.
    await this.killRun(0);
    return this.exited;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
