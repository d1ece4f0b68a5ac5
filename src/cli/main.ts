import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { exitCodeFor } from '../shared/analysis/report';
import { displaySafe } from '../shared/format';
import { toWireJson } from '../shared/protocol/wire-number';
import { weightDecayMode, type WeightDecayMode } from '../shared/protocol/run-data';
import { backendChoice, type BackendChoice } from '../shared/protocol/runner-protocol';
import { runScript } from '../engine/run-session';
import { ansiStyle, renderTextReport } from './text-report';

declare const LOSS_LENS_VERSION: string;

const USAGE = `Usage: loss-lens analyze <script> [options]

Runs a TensorFlow.js training script with tfjs instrumented and reports which
regularization / weight-decay terms really reach the loss the optimizer minimizes.

Options:
  --steps N        stop after N optimizer steps (default 20)
  --timeout S      stop after S seconds (default 120)
  --backend B      auto | tensorflow | wasm | cpu (default auto)
  --weight-decay M as-written | decoupled (default as-written). decoupled: a what-if that
                   takes every L1/L2 penalty out of the minimized loss and multiplies each
                   L2-penalized weight by 1 − lr·2·l2 after each of its updates (AdamW-style)
  --json           print one JSON report on stdout and nothing else
  --events FILE    also write every runner event to FILE, one JSON object per line
                   (a recording the webview harness and tests can replay)
  --no-color       plain text even on a terminal
  -h, --help       this help
  -v, --version    the version

Exit codes: 0 no error-level finding, 1 error-level findings, 2 the script could not be built or run.
`;

class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number, got "${raw}"`);
  return n;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds, got "${raw}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        steps: { type: 'string' },
        timeout: { type: 'string' },
        backend: { type: 'string' },
        'weight-decay': { type: 'string' },
        json: { type: 'boolean', default: false },
        events: { type: 'string' },
        'no-color': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`loss-lens: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
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
  try {
    if (command !== 'analyze') throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
    if (!script) throw new UsageError('missing <script>');
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    const backend = backendChoice.safeParse(values.backend ?? 'auto');
    if (!backend.success) throw new UsageError(`--backend must be one of auto, tensorflow, wasm, cpu; got "${values.backend}"`);
    const weightDecay = weightDecayMode.safeParse(values['weight-decay'] ?? 'as-written');
    if (!weightDecay.success) throw new UsageError(`--weight-decay must be as-written or decoupled; got "${values['weight-decay']}"`);
    return await analyze(script, {
      steps: positiveInt('steps', values.steps, 20),
      timeoutSeconds: positiveNumber('timeout', values.timeout, 120),
      backend: backend.data,
      weightDecay: weightDecay.data,
      json: values.json,
      eventsFile: values.events,
      color: !values['no-color'] && !values.json && process.stdout.isTTY === true && !process.env.NO_COLOR,
    });
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`loss-lens: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

async function analyze(
  script: string,
  o: { steps: number; timeoutSeconds: number; backend: BackendChoice; weightDecay: WeightDecayMode; json: boolean; color: boolean; eventsFile?: string },
): Promise<number> {
  const recording = o.eventsFile ? fs.openSync(o.eventsFile, 'w') : null;
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const saidNotices = new Set<string>();
  const outcome = await runScript({
    scriptPath: script,
    steps: o.steps,
    timeoutSeconds: o.timeoutSeconds,
    backend: o.backend,
    weightDecay: o.weightDecay,
    runnerPath: path.join(__dirname, 'runner.js'),
    toolVersion: LOSS_LENS_VERSION,
    signal: controller.signal,
    // The script's own output never mixes with the report on stdout.
    onOutput: (_stream, text) => process.stderr.write(text),
    onEvent: (event) => {
      if (recording !== null) fs.writeSync(recording, toWireJson(event) + '\n');
      if (event.type === 'notice' && !saidNotices.has(event.message)) {
        saidNotices.add(event.message);
        process.stderr.write(`loss-lens: ${displaySafe(event.message)}\n`);
      }
    },
    onProtocolError: (error) => process.stderr.write(`loss-lens: ignored a malformed runner message: ${error}\n`),
  });
  if (recording !== null) fs.closeSync(recording);
  process.removeListener('SIGINT', interrupt);
  process.removeListener('SIGTERM', interrupt);
  if (o.json) {
    process.stdout.write(toWireJson(outcome.report, 2) + '\n');
  } else {
    process.stdout.write(renderTextReport(outcome.report, process.cwd(), o.color ? ansiStyle() : undefined));
  }
  return exitCodeFor(outcome.report);
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
