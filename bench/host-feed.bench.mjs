#!/usr/bin/env node
// Host-side CPU per 1,000 steps of a 100,000-step run: everything the extension host does with a runner event
// between the channel and postMessage, on the real code — the engine's parse and check of each frame, the reducer,
// the findings once per batch (the Run class of src/host/vscode/run-controller.ts, as the views read them), the
// webview feed's message for the batch, and the JSON.stringify VS Code's postMessage does with it on the host side.
// Not included: reading the FIFO and deframing (the same bytes either way), and the webview.
//
// The stream is synthesized from a recorded one (test/fixtures/streams/adam-l2-decay.ndjson: a step and a decay
// event per step): its prelude, then 100,000 steps cycling through its records with the step numbers rewritten.
// Events are batched by BENCH_BATCH_STEPS steps (default 100: a run of 1,000 steps/s under the host's 100 ms flush).
// BENCH_NO_ANALYSIS=1 leaves the findings out: the cost of carrying the events alone.
//
// Each side runs in a child process of its own, alternating, the order rotating every pair. With
// BENCH_BASELINE=<another checkout> (its node_modules installed; no build needed: the bench bundles the sources),
// the same pipeline of that checkout runs in every pair and the paired ratio this/baseline is printed. The bench
// adapts to the checkout's layout: before issue 22 the host re-encoded events (webview-feed in shared/protocol/,
// every event marking the Run changed); after it, it forwards the runner's JSON and the reducer keeps the version.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { bootstrapMedianCI, describeRatio, loadAverage, median } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STEPS = Number(process.env.BENCH_STEPS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH_STEPS ?? 100);
const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const work = mkdtempSync(path.join(tmpdir(), 'loss-lens-host-feed-'));

// ---- the stream -------------------------------------------------------------------------------------------
function synthesize() {
  const lines = readFileSync(path.join(root, 'test/fixtures/streams/adam-l2-decay.ndjson'), 'utf8').split('\n').filter((l) => l.trim());
  const events = lines.map((l) => JSON.parse(l));
  const first = events.findIndex((e) => e.type === 'step');
  const prelude = lines.slice(0, first);
  const body = events.slice(first).filter((e) => e.type === 'step' || e.type === 'decay');
  const tail = lines.slice(first).filter((l) => !/^\{"type":"(step|decay)"/.test(l));
  const out = [...prelude];
  let step = 0;
  let i = 0;
  while (step < STEPS) {
    const e = structuredClone(body[i++ % body.length]);
    if (e.type === 'step') step++;
    e.record.step = step;
    out.push(JSON.stringify(e));
  }
  return [...out, ...tail].join('\n') + '\n';
}
const streamFile = path.join(work, 'stream.ndjson');
writeFileSync(streamFile, synthesize());

// ---- one side's pipeline, bundled from its sources ----------------------------------------------------------
/** VS Code is not here: the Run class needs nothing of it, RunController's module only names EventEmitter. */
const vscodeStub = {
  name: 'vscode-absent',
  setup(b) {
    b.onResolve({ filter: /^vscode$/ }, () => ({ path: 'vscode', namespace: 'vscode-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'vscode-absent' }, () => ({
      // Only the names run-controller.ts and settings.ts reach for; the Run class the bench uses touches none of them.
      contents: 'export class EventEmitter { event = () => ({ dispose() {} }); fire() {} dispose() {} }\nexport const commands = undefined, workspace = undefined, Uri = undefined;',
      loader: 'js',
    }));
  },
};

async function bundle(checkout, name) {
  const after = existsSync(path.join(checkout, 'src/host/panel/webview-feed.ts'));
  const feed = after ? './src/host/panel/webview-feed' : './src/shared/protocol/webview-feed';
  const contents = `
import * as protocol from './src/shared/protocol/runner-protocol';
import { applyRunnerEvent } from './src/shared/model/run-state';
import { Run } from './src/host/vscode/run-controller';
import { WebviewFeed } from '${feed}';
import { readFileSync } from 'node:fs';
const AFTER = ${after};
async function main() {
  const lines = readFileSync(process.argv[2], 'utf8').split('\\n').filter((l) => l);
  const batchSteps = Number(process.argv[3]);
  const run = new Run('/ws/train.ts');
  let bytes = 0, messages = 0, findingsMessages = 0;
  // What VS Code's webview.postMessage does on the host side: serialize the message.
  // BENCH_NO_ANALYSIS=1: the transport alone (the feed sees a fixed, empty list of findings).
  const fixed = { state: run.state, findings: [] };
  const source = process.env.BENCH_NO_ANALYSIS === '1' ? () => fixed : () => run;
  const feed = new WebviewFeed('/ws/train.ts', { run: source }, (m: any) => { bytes += JSON.stringify(m).length; messages++; if (m.type === 'findings') findingsMessages++; });
  await feed.onReady();
  let pending: any[] = [];
  let steps = 0, batches = 0, inBatch = 0, marked = 0;
  const flush = async () => { if (pending.length === 0) return; const events = pending; pending = []; inBatch = 0; batches++; await feed.events(events as any); };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const marks: number[] = [];
  for (const line of lines) {
    // runner-process.ts + run-session.ts: check the frame, fold it in; run-controller.ts: hand it to the batch.
    if (AFTER) {
      const r = (protocol as any).parseRunnerFrame(line);
      if (!r.ok) throw new Error(r.error);
      applyRunnerEvent(run.state, r.value.event);
      pending.push(r.value.wire);
      if (r.value.event.type === 'step') { steps++; inBatch++; }
    } else {
      const r = protocol.parseRunnerEvent(line);
      if (!r.ok) throw new Error(r.error);
      applyRunnerEvent(run.state, r.value);
      run.changed();
      pending.push(r.value);
      if (r.value.type === 'step') { steps++; inBatch++; }
    }
    if (inBatch >= batchSteps) await flush();
    if (steps % 10000 === 0 && steps !== marked && inBatch === 0) { marked = steps; const c = process.cpuUsage(cpu0); marks.push((c.user + c.system) / 1000); }
  }
  await flush();
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0, steps, batches, messages, findingsMessages, bytes, marks, findings: run.findings.length }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;
  const outfile = path.join(work, `${name}.cjs`);
  await esbuild.build({
    stdin: { contents, resolveDir: checkout, loader: 'ts', sourcefile: 'host-feed-entry.ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    plugins: [vscodeStub],
    // A baseline has no parseRunnerFrame: esbuild's warning about it is expected.
    logLevel: 'error',
  });
  return outfile;
}

const sides = [['this build', await bundle(root, 'this')]];
if (process.env.BENCH_BASELINE) sides.push(['baseline', await bundle(path.resolve(process.env.BENCH_BASELINE), 'baseline')]);

function once(file) {
  const r = spawnSync(process.execPath, [file, streamFile, String(BATCH)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

console.log(`host feed${process.env.BENCH_NO_ANALYSIS === '1' ? ' (transport alone, no findings)' : ''}: ${STEPS.toLocaleString('en')} steps (+ a decay event each), batches of ${BATCH} steps, ${PAIRS} pairs, load ${loadAverage()}`);
const results = Object.fromEntries(sides.map(([n]) => [n, []]));
for (let p = 0; p < PAIRS; p++) {
  const order = p % 2 === 0 ? sides : [...sides].reverse();
  for (const [name, file] of order) {
    const r = once(file);
    results[name].push(r);
    console.log(`  pair ${p + 1} ${name}: ${(r.cpuMs / (r.steps / 1000)).toFixed(2)} ms CPU / 1,000 steps (${(r.cpuMs / 1000).toFixed(2)} s CPU, ${(r.wallMs / 1000).toFixed(2)} s wall, ${r.messages} messages, ${r.findingsMessages} findings messages, ${(r.bytes / 1e6).toFixed(1)} MB posted)`);
  }
}
const per1k = (r) => r.cpuMs / (r.steps / 1000);
/** CPU per 1,000 steps over the last 10,000 steps: how the cost grows with the run's length. */
const lateRate = (r) => (r.marks.length >= 2 ? (r.marks.at(-1) - r.marks.at(-2)) / 10 : Number.NaN);
for (const [name] of sides) {
  const rs = results[name];
  const [lo, hi] = bootstrapMedianCI(rs.map(per1k));
  console.log(
    `${name}: median ${median(rs.map(per1k)).toFixed(2)} ms CPU per 1,000 steps [${lo.toFixed(2)}, ${hi.toFixed(2)}] (n=${rs.length}); ` +
      `steps 90k–100k: ${median(rs.map(lateRate)).toFixed(2)} ms per 1,000; ${rs[0].messages} messages (${rs[0].findingsMessages} findings), ${(rs[0].bytes / 1e6).toFixed(1)} MB posted`,
  );
}
if (sides.length === 2) {
  const ratios = results['this build'].map((r, i) => per1k(r) / per1k(results.baseline[i]));
  console.log(`this build / baseline, paired: ${describeRatio(ratios)}; range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}`);
  const late = results['this build'].map((r, i) => lateRate(r) / lateRate(results.baseline[i]));
  console.log(`steps 90k–100k, this build / baseline, paired: ${describeRatio(late)}`);
}
console.log(`load after: ${loadAverage()}`);
if (process.env.BENCH_KEEP) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
