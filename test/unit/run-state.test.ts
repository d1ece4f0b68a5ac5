import { describe, expect, it } from 'vitest';
import { finalStatus } from '../../src/shared/model/run-exit';
import { appendStep, emptyRunState, emptySeries } from '../../src/shared/model/run-state';
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
    const f = finalStatus(state(), exit({ code: null, signal: 'SIGKILL', started: true, lastStderrLine: 'FATAL ERROR: heap out of memory' }));
    expect(f.status).toBe('failed');
    expect(f.error?.message).toContain('SIGKILL');
    expect(f.error?.message).toContain('FATAL ERROR: heap out of memory');
    expect(f.error?.message).not.toMatch(/native crash\?/);
  });

  it('calls a stop by the user cancelled, not completed', () => {
    expect(finalStatus(state(), exit({ code: null, signal: 'SIGKILL', killedBy: 'stop', started: true })).status).toBe('cancelled');
    const s = state();
    s.end = { reason: 'stopped', exitCode: 0, exitSource: null };
    expect(finalStatus(s, exit({ killedBy: 'stop', started: true })).status).toBe('cancelled');
  });

  it('treats process.exitCode like process.exit(): an early exit says so, with the last stderr line', () => {
    const s = state();
    s.end = { reason: 'exit', exitCode: 64, exitSource: null };
    const f = finalStatus(s, exit({ code: 64, started: true, lastStderrLine: 'usage: train.js --epochs N' }));
    expect(f.status).toBe('failed');
    expect(f.error).toMatchObject({ name: 'ProcessExit', message: 'The script exited with code 64 before training. Its last line on stderr: "usage: train.js --epochs N"' });
  });

  it('fails a run whose process code disagrees with a completed end (an unsettled top-level await)', () => {
    const s = state();
    s.end = { reason: 'completed', exitCode: 0, exitSource: null };
    const f = finalStatus(s, exit({ code: 13, started: true }));
    expect(f.status).toBe('failed');
    expect(f.error?.message).toContain('top-level await never settled');
  });

  it('never calls a run with a broken channel clean, and names the channel', () => {
    const s = state();
    s.end = { reason: 'completed', exitCode: 0, exitSource: null };
    const broken = finalStatus(s, exit({ started: true, channelError: '1 frame(s) arrived with foreign bytes inside' }));
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatchObject({ name: 'ChannelBroken' });
    expect(broken.error?.message).toMatch(/private telemetry channel/);
    // Exited with a code yet no end event: the event was lost on the way, not a crash.
    const lost = finalStatus(state(), exit({ code: 0, started: true }));
    expect(lost.error?.name).toBe('ChannelBroken');
    expect(lost.error?.message).not.toMatch(/out of memory|native crash/);
  });
});
