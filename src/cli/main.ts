import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildReport, exitCodeFor, type Report } from '../shared/analysis/report';
import { analyzeRun } from '../shared/analysis/rules';
import { displaySafe } from '../shared/format';
import { emptyRunState } from '../shared/model/run-state';
import { toWireJson } from '../shared/protocol/wire-number';
import { weightDecayMode, type WeightDecayMode } from '../shared/protocol/run-data';
import { backendChoice, type BackendChoice } from '../shared/protocol/runner-protocol';
import { MAX_TIMEOUT_SECONDS } from '../engine/run-options';
import { runScript } from '../engine/run-script';
import { EventRecording, RefusedPath } from './recording';
import { renderSarif } from './sarif-report';
import { ansiStyle, renderTextReport } from './text-report';

declare const LOSS_LENS_VERSION: string;

const FAIL_ON = ['timeout', 'step-limit', 'warning'] as const;
type FailOn = (typeof FAIL_ON)[number];
const FORMATS = ['text', 'json', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `Usage: loss-lens analyze <script> [options] [-- <script arguments>]

Runs a TensorFlow.js training script with tfjs instrumented, as \`node <script> <arguments>\` would run it
(a .py script: TensorFlow / Keras instrumented, as \`python <script> <arguments>\` would run it), and reports
which regularization / weight-decay terms really reach the loss the optimizer minimizes.

Options:
  --steps N          stop after N optimizer steps (default 20)
  --timeout S        stop after S seconds (default 120, at most ${MAX_TIMEOUT_SECONDS})
  --backend B        auto | tensorflow | wasm | cpu (default auto; tfjs scripts only)
  --python PATH      the Python interpreter for a .py script, with its TensorFlow (default python3)
  --weight-decay M   as-written | decoupled (default as-written). decoupled: a what-if that takes
                     every L1/L2 penalty out of the minimized loss and multiplies each L2-penalized
                     weight by 1 − lr·2·l2 after each of its updates (AdamW-style)
  --format F         text | json | sarif (default text); json and sarif print exactly one document
                     on stdout and nothing else
  --json             the same as --format json
  --sarif-root DIR   SARIF locations are relative to DIR (default: the current folder)
  --events FILE      also write every runner event to FILE, one JSON object per line
                     (a recording the webview harness and tests can replay). FILE is replaced;
                     the script and the files it reads are refused
  --fail-on LIST     also exit 1 on any of: timeout, step-limit, warning (comma-separated)
  --no-color         plain text even on a terminal
  -h, --help         this help
  -v, --version      the version
Everything after -- goes to the script: its process.argv.slice(2) (sys.argv[1:] in Python).

Exit codes: 0 no error-level finding, 1 error-level findings (or a --fail-on outcome), 2 the script could not
be built or run, 130/143 cancelled by SIGINT/SIGTERM (the report says status "cancelled").
`;

class UsageError extends Error {}

/** A line on stderr from us (not the script's own output): whatever it quotes is shown, never obeyed. */
const say = (message: string) => process.stderr.write(`loss-lens: ${displaySafe(message)}\n`);

/** The --format value as written, before the arguments are checked (the last one wins, as parseArgs does). */
function formatArg(args: string[]): string | null {
  let out: string | null = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--format') out = args[i + 1] ?? null;
    else if (args[i].startsWith('--format=')) out = args[i].slice('--format='.length);
  }
  return out;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number, got "${raw}"`);
  return n;
}

function timeoutSeconds(raw: string | undefined): number {
  if (raw === undefined) return 120;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got "${raw}"`);
  if (n > MAX_TIMEOUT_SECONDS) {
    throw new UsageError(`--timeout is at most ${MAX_TIMEOUT_SECONDS} seconds (about 24.8 days, the longest timer Node has), got ${raw}`);
  }
  return n;
}

function pythonArg(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new UsageError('--python needs the path of a Python interpreter');
  return raw;
}

function failOnList(raw: string | undefined): Set<FailOn> {
  const out = new Set<FailOn>();
  if (raw === undefined) return out;
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(FAIL_ON as readonly string[]).includes(item)) throw new UsageError(`--fail-on takes ${FAIL_ON.join(', ')}; got "${item}"`);
    out.add(item as FailOn);
  }
  return out;
}

/** Under --json a usage error is still exactly one JSON document on stdout: a report of a run that never started. */
function usageReport(message: string, script: string | undefined): Report {
  const state = emptyRunState(script ? path.resolve(script) : '');
  state.status = 'failed';
  state.error = { phase: 'build', name: 'UsageError', message, stack: null, source: null };
  return buildReport(state, { toolVersion: LOSS_LENS_VERSION, durationMs: 0 }, analyzeRun(state));
}

async function main(argv: string[]): Promise<number> {
  // Ours before the first `--`, the script's after it.
  const dashes = argv.indexOf('--');
  const own = dashes < 0 ? argv : argv.slice(0, dashes);
  const scriptArgs = dashes < 0 ? [] : argv.slice(dashes + 1);
  // Known before parsing, so that even a usage error prints one document in the format asked for.
  const asked = own.includes('--json') ? 'json' : formatArg(own);
  const usageError = (message: string, script?: string): number => {
    if (asked === 'json') process.stdout.write(toWireJson(usageReport(message, script), 2) + '\n');
    else if (asked === 'sarif') process.stdout.write(renderSarif(usageReport(message, script), process.cwd()));
    else process.stderr.write(`loss-lens: ${displaySafe(message)}\n\n${USAGE}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        steps: { type: 'string' },
        timeout: { type: 'string' },
        backend: { type: 'string' },
        python: { type: 'string' },
        'weight-decay': { type: 'string' },
        json: { type: 'boolean', default: false },
        format: { type: 'string' },
        'sarif-root': { type: 'string' },
        events: { type: 'string' },
        'fail-on': { type: 'string' },
        'no-color': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (err) {
    const message = (err as Error).message;
    const unknown = /Unknown option '(--?[^']+)'/.exec(message)?.[1];
    const script = own.filter((a) => !a.startsWith('-'))[1];
    return usageError(unknown ? `unknown option ${unknown} (arguments for the script go after --: loss-lens analyze <script> -- ${unknown} …)` : message, script);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${LOSS_LENS_VERSION}\n`);
    return 0;
  }
  const [command, script, ...extra] = positionals;
  let options: AnalyzeOptions;
  try {
    if (command !== 'analyze') throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
    if (!script) throw new UsageError('missing <script>');
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')} (arguments for the script go after --)`);
    const backend = backendChoice.safeParse(values.backend ?? 'auto');
    if (!backend.success) throw new UsageError(`--backend must be one of auto, tensorflow, wasm, cpu; got "${values.backend}"`);
    const weightDecay = weightDecayMode.safeParse(values['weight-decay'] ?? 'as-written');
    if (!weightDecay.success) throw new UsageError(`--weight-decay must be as-written or decoupled; got "${values['weight-decay']}"`);
    const format = values.json ? 'json' : (values.format ?? 'text');
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}; got "${format}"`);
    if (values.json && values.format !== undefined && values.format !== 'json') throw new UsageError(`--json and --format ${values.format} ask for two formats`);
    options = {
      steps: positiveInt('steps', values.steps, 20),
      timeoutSeconds: timeoutSeconds(values.timeout),
      backend: backend.data,
      weightDecay: weightDecay.data,
      format: format as Format,
      sarifRoot: path.resolve(values['sarif-root'] ?? process.cwd()),
      failOn: failOnList(values['fail-on']),
      recording: values.events === undefined ? null : eventRecording(values.events, script),
      color: !values['no-color'] && format === 'text' && process.stdout.isTTY === true && !process.env.NO_COLOR,
      args: scriptArgs,
      pythonPath: pythonArg(values.python),
    };
  } catch (err) {
    if (err instanceof UsageError) return usageError(err.message, script);
    throw err;
  }
  return analyze(script, options, usageError);
}

function eventRecording(file: string, script: string): EventRecording {
  let recording: EventRecording;
  try {
    recording = new EventRecording(file, script);
  } catch (err) {
    if (err instanceof RefusedPath) throw new UsageError(err.message);
    throw err;
  }
  const stdout = recording.sameAsDescriptor(1, 'where this command writes its report (stdout)');
  if (stdout) throw new UsageError(stdout);
  return recording;
}

interface AnalyzeOptions {
  steps: number;
  timeoutSeconds: number;
  backend: BackendChoice;
  weightDecay: WeightDecayMode;
  format: Format;
  sarifRoot: string;
  color: boolean;
  failOn: Set<FailOn>;
  recording: EventRecording | null;
  args: string[];
  pythonPath: string | undefined;
}

async function analyze(script: string, o: AnalyzeOptions, usageError: (message: string, script?: string) => number): Promise<number> {
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | null = null;
  // The first signal cancels the run (the report still comes); the run's processes are gone within a second.
  const interrupt = (signal: NodeJS.Signals) => {
    interruptedBy ??= signal;
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const saidNotices = new Set<string>();
  // --events naming a file the scan read: the run stops before the script starts, as a usage error.
  let refused: string | null = null;
  const outcome = await runScript({
    scriptPath: script,
    args: o.args,
    steps: o.steps,
    timeoutSeconds: o.timeoutSeconds,
    backend: o.backend,
    weightDecay: o.weightDecay,
    pythonPath: o.pythonPath,
    runnerPath: path.join(__dirname, 'runner.js'),
    toolVersion: LOSS_LENS_VERSION,
    signal: controller.signal,
    // The script's own output never mixes with the report on stdout.
    onOutput: (_stream, text) => process.stderr.write(text),
    onScanned: ({ files }) => {
      refused = o.recording?.protect(files) ?? null;
      if (refused) controller.abort();
    },
    onEvent: (event, _state, wire) => {
      // The runner's own JSON, as it crossed the channel (one encoding per event).
      o.recording?.write(JSON.stringify(wire) + '\n');
      // The engine, not the runner, knows the weight-decay mode now: the recording says it, so a replay of the
      // recording (which starts from an empty state) reports the mode the run had.
      if (event.type === 'hello') o.recording?.write(toWireJson({ type: 'weight-decay', mode: o.weightDecay }) + '\n');
      if (event.type === 'notice' && !saidNotices.has(event.message)) {
        saidNotices.add(event.message);
        say(event.message);
      }
    },
    onProtocolError: (error) => say(`ignored a malformed runner message: ${error}`),
  });
  o.recording?.close();
  process.removeListener('SIGINT', interrupt);
  process.removeListener('SIGTERM', interrupt);
  if (refused) return usageError(refused, script);
  const recordingProblem = o.recording?.problem;
  if (recordingProblem) outcome.report.notices.push(recordingProblem);
  // Notices the engine added itself (the scan's, a broken channel, an incomplete report) are said too, once.
  for (const notice of outcome.report.notices) {
    if (saidNotices.has(notice)) continue;
    saidNotices.add(notice);
    say(notice);
  }
  if (o.format === 'json') {
    process.stdout.write(toWireJson(outcome.report, 2) + '\n');
  } else if (o.format === 'sarif') {
    process.stdout.write(renderSarif(outcome.report, o.sarifRoot));
  } else {
    process.stdout.write(renderTextReport(outcome.report, process.cwd(), o.color ? ansiStyle() : undefined));
  }
  if (interruptedBy) return interruptedBy === 'SIGINT' ? 130 : 143;
  const code = exitCodeFor(outcome.report);
  if (code !== 0) return code;
  const r = outcome.report;
  const failed =
    (o.failOn.has('timeout') && r.status === 'timeout') ||
    (o.failOn.has('step-limit') && r.status === 'step-limit') ||
    (o.failOn.has('warning') && r.findings.some((f) => f.severity === 'warning'));
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`loss-lens: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 2;
  },
);
