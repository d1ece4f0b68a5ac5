import { describe, expect, it } from 'vitest';
import { severityCounts } from '../../src/webview/findings/counts';
import { analyzeRun } from '../../src/shared/analysis/rules';
import { runPhase } from '../../src/shared/analysis/run-phase';
import { penaltyCounts, verdictOf } from '../../src/shared/analysis/verdict';
import { collectTerms } from '../../src/shared/analysis/terms';
import { applyRunnerEvent, emptyRunState, type RunState } from '../../src/shared/model/run-state';
import { readStream, replayStream } from './helpers/streams';
import { stateFrom, wire } from '../helpers/events';
import { L2, syntheticRun } from '../helpers/synthetic-run';

const verdict = (state: RunState) => verdictOf(state, analyzeRun(state));

/** The recorded run, cut after its first `steps` step events (and without its end). */
function upTo(name: string, steps: number): RunState {
  const state = emptyRunState(`${name}.ts`);
  let seen = 0;
  for (const e of readStream(name)) {
    if (e.type === 'end') continue;
    if (e.type === 'step' && ++seen > steps) break;
    applyRunnerEvent(state, e);
  }
  return state;
}

describe('verdictOf', () => {
  it('a loop that drops every penalty: weight decay does nothing, with the findings that say where', () => {
    const state = replayStream('custom-loop-drops-penalty');
    const v = verdict(state);
    expect(v.headline).toBe('3 of 3 penalties never reach the minimized loss: weight decay does nothing here.');
    expect(v.tone).toBe('error');
    expect(v.provisional).toBe(false);
    expect(v.top.map((f) => f.ruleId)).toEqual(['regularizer-not-in-loss', 'regularizer-not-in-loss', 'regularizer-not-in-loss']);
    for (const f of v.top) expect(f.source?.line).toBeGreaterThan(0);
  });

  it('every penalty in the loss under SGD: L2 is weight decay, with its factor per step', () => {
    const state = replayStream('custom-loop-with-penalty');
    const lr = state.optimizers[0].config.learningRate as number;
    const v = verdict(state);
    expect(v.headline).toBe(`All 3 penalties reach the loss. Under SGD, L2 is weight decay: ×${Number((1 - 2 * lr * 1e-3).toPrecision(6))} per step.`);
    expect(v.tone).toBe('ok');
    expect(v.top).toEqual([]);
  });

  it('two penalties in the loss: "Both penalties", never "All 2 penalties"', () => {
    const state = stateFrom(
      wire(
        syntheticRun({
          layers: [
            { name: 'd1', line: 10, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
            { name: 'd2', line: 11, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
          ],
          steps: [{ total: 2, penalties: { 'd1/kernel': [0.1, true], 'd2/kernel': [0.2, true] } }],
        }),
      ),
    );
    expect(verdict(state).headline.startsWith('Both penalties reach the loss.')).toBe(true);
  });

  it('every penalty in the loss under Adam: L2 is not weight decay; three findings shown, the rest counted', () => {
    const state = replayStream('fit-cnn-with-decay');
    const findings = analyzeRun(state);
    const v = verdictOf(state, findings);
    expect(v.headline).toBe('All 4 penalties reach the loss. Under Adam, L2 is not weight decay.');
    expect(v.tone).toBe('warning');
    expect(v.top).toEqual(findings.slice(0, 3));
    expect(v.more).toBe(findings.length - 3);
    expect(verdictOf(state, findings, { top: 1 }).top).toHaveLength(1);
  });

  it('a loss that went NaN says so first', () => {
    const state = replayStream('nan-loss');
    const firstBad = state.series[0].step[state.series[0].totalLoss.findIndex((v) => !Number.isFinite(v))];
    const v = verdict(state);
    expect(v.headline.startsWith(`The loss is non-finite from step ${firstBad}: every step after it is meaningless.`)).toBe(true);
    expect(v.tone).toBe('error');
    expect(v.top[0].ruleId).toBe('non-finite-loss');
  });

  it('half the penalties dropped in a deep model', () => {
    const state = replayStream('deep-residual');
    const c = penaltyCounts(collectTerms(state));
    expect(c.never).toBeGreaterThan(0);
    expect(c.never).toBeLessThan(c.total);
    expect(verdict(state).headline).toBe(`${c.never} of ${c.total} penalties never reach the minimized loss: their decay does nothing.`);
  });

  it('is provisional while the run goes on, and waits for the first step', () => {
    const running = upTo('custom-loop-drops-penalty', 2);
    expect(verdict(running).provisional).toBe(true);
    expect(verdict(running).headline).toBe('3 of 3 penalties never reach the minimized loss: weight decay does nothing here.');
    const before = upTo('custom-loop-drops-penalty', 0);
    expect(verdict(before)).toMatchObject({ tone: 'pending', headline: 'No verdict yet: it comes with the first optimizer step.', provisional: true });
  });

  it('a run without a step, a script that failed first, and a model without penalties', () => {
    const none = upTo('custom-loop-drops-penalty', 0);
    applyRunnerEvent(none, { type: 'end', reason: 'completed', exitCode: 0, exitSource: null });
    none.status = 'completed';
    expect(verdict(none)).toMatchObject({ tone: 'error', headline: 'The script ran without a single optimizer step: there is no loss to check.' });
    const failed = emptyRunState('x.ts');
    failed.buildErrors.push({ message: 'Unexpected token', source: null });
    failed.status = 'failed';
    expect(verdict(failed).headline).toBe('The script failed before its first optimizer step (BuildError).');
    const plain = replayStream('custom-loop-drops-penalty');
    for (const l of plain.layers) for (const w of l.weights) w.regularizer = null;
    expect(verdict(plain)).toMatchObject({ tone: 'info', headline: 'No penalties: no layer asks for weight decay, so the minimized loss is the data loss alone.' });
  });

  it('penalties that reach the loss in only some steps', () => {
    const state = replayStream('custom-loop-with-penalty');
    const id = Object.keys(state.series[0].termInLossSteps)[0];
    state.series[0].termInLossSteps[id] -= 1;
    expect(verdict(state)).toMatchObject({ tone: 'warning', headline: '1 of 3 penalties reaches the loss in only some steps: its decay is weaker than configured.' });
  });
});

describe('runPhase', () => {
  it("names a Python run's TensorFlow, not a tfjs build, while it waits for the first step", () => {
    const waiting = upTo('python-seed002-cifar10-sum', 0);
    expect(waiting.framework).toBe('tensorflow');
    expect(runPhase(waiting)).toMatchObject({ kind: 'waiting', text: `TensorFlow ${waiting.backend!.tfjsVersion} in Python · waiting for the first optimizer step…` });
    expect(waiting.backend!.tfjsVersion).toMatch(/^2\.\d+\.\d+$/);
  });

  it('moves from loading tfjs to waiting for the first step to training, and says how the run ended', () => {
    expect(runPhase(null)).toEqual({ kind: 'starting', text: 'Starting…', running: true });
    expect(runPhase(emptyRunState('x.ts'))).toMatchObject({ kind: 'loading', text: 'Checking the script and loading tfjs…', running: true });
    const waiting = upTo('custom-loop-drops-penalty', 0);
    expect(runPhase(waiting)).toMatchObject({ kind: 'waiting', text: 'tfjs 4.22.0 on wasm · waiting for the first optimizer step…' });
    expect(runPhase(upTo('custom-loop-drops-penalty', 3))).toMatchObject({ kind: 'training', text: 'Training · step 3', running: true });
    const done = replayStream('custom-loop-drops-penalty');
    expect(runPhase(done)).toEqual({ kind: 'ended', text: `Stopped at the step limit · ${done.series[0].step.length} steps`, running: false });
    const failed = emptyRunState('x.ts');
    failed.status = 'failed';
    expect(runPhase(failed)).toMatchObject({ kind: 'failed', running: false });
  });
});

describe('severityCounts (the verdict counts the findings it leaves to the list)', () => {
  it('says "1 error", not "1 errors", and leaves out what is at zero', () => {
    const f = (severity: 'error' | 'warning' | 'info') => ({ severity });
    expect(severityCounts([f('error')])).toBe('1 error');
    expect(severityCounts([f('warning'), f('error'), f('warning')])).toBe('1 error · 2 warnings');
    expect(severityCounts([f('info'), f('info')])).toBe('2 info');
    expect(severityCounts([])).toBe('no findings');
  });
});
