import { describe, expect, it } from 'vitest';
import { appendStep, emptyRunState, emptySeries, finalStatus } from '../../src/shared/model/run-state';
import type { StepRecord } from '../../src/shared/protocol/run-data';

const record = (step: number, extra: Partial<StepRecord> = {}): StepRecord => ({
  objective: 0,
  step,
  totalLoss: 1,
  dataLoss: 1,
  regularizationLoss: 0,
  terms: {},
  inLoss: [],
  weightNorms: {},
  learningRate: 0.1,
  wallMs: 5,
  ...extra,
});

describe('series', () => {
  it('keeps every column as long as the step column, padding late terms and weights with null', () => {
    const s = emptySeries();
    appendStep(s, record(1, { weightNorms: { a: 1 } }));
    appendStep(s, record(2, { weightNorms: { a: 2, b: 3 }, terms: { 'penalty:b': 0.5 }, inLoss: ['penalty:b'] }));
    appendStep(s, record(3, { weightNorms: { b: 4 } }));
    expect(s.step).toEqual([1, 2, 3]);
    expect(s.weightNorms).toEqual({ a: [1, 2, null], b: [null, 3, 4] });
    expect(s.terms['penalty:b']).toEqual([null, 0.5, null]);
    expect(s.termInLossSteps).toEqual({ 'penalty:b': 1 });
  });
});

describe('final status', () => {
  const state = () => emptyRunState('/ws/a.ts');
  const exit = (over: Partial<Parameters<typeof finalStatus>[1]> = {}) => ({ code: 0, signal: null, killedBy: null, ...over });

  it('believes the runner about the step limit and a natural end', () => {
    const s = state();
    s.end = { reason: 'step-limit', exitCode: 0, exitSource: null };
    expect(finalStatus(s, exit()).status).toBe('step-limit');
    s.end = { reason: 'completed', exitCode: 0, exitSource: null };
    expect(finalStatus(s, exit()).status).toBe('completed');
  });

  it('calls a host-side kill on timeout a timeout, even with no end event', () => {
    expect(finalStatus(state(), exit({ code: null, signal: 'SIGTERM', killedBy: 'timeout' })).status).toBe('timeout');
  });

  it('treats process.exit(0) as completed and process.exit(3) as a failure pointing at the call', () => {
    const s = state();
    const source = { file: '/ws/a.ts', line: 9, column: 7 };
    s.end = { reason: 'exit', exitCode: 0, exitSource: source };
    expect(finalStatus(s, exit()).status).toBe('completed');
    s.end = { reason: 'exit', exitCode: 3, exitSource: source };
    const f = finalStatus(s, exit({ code: 3 }));
    expect(f.status).toBe('failed');
    expect(f.error?.message).toContain('process.exit(3)');
    expect(f.error?.source).toEqual(source);
  });

  it('says the runner died when it vanished without a word', () => {
    const f = finalStatus(state(), exit({ code: null, signal: 'SIGKILL' }));
    expect(f.status).toBe('failed');
    expect(f.error?.message).toContain('SIGKILL');
  });
});
