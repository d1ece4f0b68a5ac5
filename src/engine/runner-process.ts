import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  parseRunnerFrame,
  RUN_MARK_ENV,
  RUN_FILES,
  RUNNER_PROTOCOL_VERSION,
  type InitCommandInput,
  type RunnerEvent,
  type TranspiledModule,
  type WireRunnerEvent,
} from '../shared/protocol/runner-protocol';
import type { RunnerExitFacts } from '../shared/model/run-exit';
import { Containment } from './containment';
import { delay } from './delay';
import type { KillOptions } from './kill-tree';
import { PrivateChannel } from './private-channel';
import { DEFAULT_PYTHON, isPythonScript, pythonRunnerDir } from './python-launch';
import type { RunnerLaunch } from './run-options';

export interface RunnerProcessOptions extends RunnerLaunch {
  /** The run's private folder (mode 0700): the channel and init.json go here. */
  workDir: string;
  transpiled: Record<string, TranspiledModule>;
  requiredEsm?: Record<string, string>;
  /** A checked event, and the JSON it came as (forwarded to the panel as it is). */
  onEvent: (event: RunnerEvent, wire: WireRunnerEvent) => void;
  /** For tests of each platform's branch. */
  killOptions?: Pick<KillOptions, 'system'>;
}

export interface RunnerExit extends RunnerExitFacts {
  /** Bytes that were not Loss Lens frames on the channel (someone else wrote there); they were skipped. */
  garbageBytes: number;
  /** Processes of the run still alive after the deadline (should be none). */
  survivors: number[];
  /** Which containment applied (a notice of the report). */
  containment: string;
}

/**
 * Set in the runner's environment only so Electron's binary (VS Code's own runtime) starts as Node; the runner
 * takes it out again before user code unless the host's environment had it (`node script.js` never sets it).
 */
const ELECTRON_AS_NODE = 'ELECTRON_RUN_AS_NODE';

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
  private containment!: Containment;
  /** The executable the runner runs on: Node (the tfjs runner) or the user's Python. */
  private command = '';

  constructor(private readonly options: RunnerProcessOptions) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<RunnerExit> {
    const o = this.options;
    const channel = await PrivateChannel.open(o.workDir, (json) => {
      const parsed = parseRunnerFrame(json);
      if (!parsed.ok) return o.onProtocolError?.(parsed.error);
      if (parsed.value.event.type === 'hello') this.started = true;
      o.onEvent(parsed.value.event, parsed.value.wire);
    });
    // The polite stop's mailbox (see RUN_FILES): the runner's watchdog thread watches this folder.
    fs.mkdirSync(path.join(o.workDir, RUN_FILES.control), { mode: 0o700 });
    this.containment = Containment.prepare(this.mark, o.workDir, o.containment);
    const env = { ...process.env, ...o.env };
    // A .py script: the user's interpreter runs the Python runner; nothing Electron-specific goes into its environment.
    const python = isPythonScript(o.scriptPath);
    const command = python ? (o.pythonPath ?? DEFAULT_PYTHON) : (o.nodePath ?? process.execPath);
    this.command = command;
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
      cgroup: this.containment.cgroupDir,
      hostOnlyEnv: !python && env[ELECTRON_AS_NODE] === undefined ? [ELECTRON_AS_NODE] : [],
    };
    // Holds the token: the runner deletes it as soon as it has read it, before any user code runs.
    const initPath = path.join(o.workDir, 'init.json');
    try {
      fs.writeFileSync(initPath, JSON.stringify(init), { mode: 0o600 });
    } catch (err) {
      await this.containment.kill({ mark: this.mark, selfPid: process.pid }, { graceMs: 0 });
      throw err;
    }

    const child = spawn(command, [python ? pythonRunnerDir(o.runnerPath) : o.runnerPath, initPath], {
      cwd: o.cwd ?? process.cwd(),
      env: python ? { ...env, [RUN_MARK_ENV]: this.mark } : { ...env, [RUN_MARK_ENV]: this.mark, [ELECTRON_AS_NODE]: '1' },
      // The script's stdin is closed; its stdout and stderr are passed through. Nothing else: fds 3 and up are
      // the runtime's own, as under plain node.
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group (POSIX), so a stop can take the script's children with it.
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    this.child = child;
    // Before Node has even started inside it: nothing the script starts can be outside the cgroup.
    this.containment.adopt(child.pid);
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
      lastStderrLine: spawnError ? `could not start ${this.command}: ${spawnError}` : this.lastStderrLine,
      garbageBytes: s.garbageBytes,
      survivors,
      containment: this.containment.notice(),
    });
  }

  private killRun(graceMs: number, runnerAlive = true) {
    const pid = this.child?.pid;
    const group = process.platform === 'win32' ? undefined : pid;
    const rootPid = runnerAlive || process.platform === 'win32' ? pid : undefined;
    return this.containment.kill({ mark: this.mark, rootPid, groupId: group, selfPid: process.pid }, { graceMs, ...this.options.killOptions });
  }

  /**
   * Ask politely (the runner writes its end event), then SIGKILL every process of the run. The request is a
   * file in the run's private folder, not a signal: a script may use any signal itself (SIGUSR2 included).
   */
  async stop(reason: 'timeout' | 'stop'): Promise<RunnerExit> {
    const child = this.child;
    if (!child) {
      this.pendingStop ??= reason;
      return this.exited;
    }
    if (child.exitCode !== null || child.signalCode !== null) return this.exited;
    this.killedBy ??= reason;
    // While the runner lives its descendants are its descendants: record them before its exit re-parents them.
    this.containment.recordNow(child.pid);
    if (child.pid !== undefined) {
      try {
        fs.writeFileSync(path.join(this.options.workDir, RUN_FILES.control, RUN_FILES.stop), reason, { mode: 0o600 });
      } catch {
        // The folder is gone: the run is over.
      }
      const polite = await Promise.race([this.exited.then(() => true), delay(POLITE_STOP_MS).then(() => false)]);
      if (polite) return this.exited;
    }
    // A synchronous loop never runs a signal handler: no more asking.
    await this.killRun(0);
    return this.exited;
  }
}
