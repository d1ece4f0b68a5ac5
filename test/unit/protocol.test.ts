import { describe, expect, it } from 'vitest';
import { parseInitCommand, parseRunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { toWireJson } from '../../src/shared/protocol/wire-number';

const step = (totalLoss: number) => ({
  type: 'step' as const,
  record: {
    objective: 0,
    step: 1,
    totalLoss,
    dataLoss: totalLoss,
    regularizationLoss: 0,
    terms: { 'penalty:w': -Infinity },
    inLoss: [],
    weightNorms: { w: Infinity },
    learningRate: null,
    wallMs: 1,
  },
});

describe('runner protocol', () => {
  it('carries NaN and ±Infinity through JSON and back', () => {
    const parsed = parseRunnerEvent(toWireJson(step(Number.NaN)));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.value.type !== 'step') throw new Error('unreachable');
    expect(Number.isNaN(parsed.value.record.totalLoss)).toBe(true);
    expect(parsed.value.record.terms['penalty:w']).toBe(-Infinity);
    expect(parsed.value.record.weightNorms.w).toBe(Infinity);
  });

  it('rejects events that are not JSON, of unknown type, or missing fields', () => {
    expect(parseRunnerEvent('{"type":"step"').ok).toBe(false);
    expect(parseRunnerEvent('{"type":"launch-missiles"}').ok).toBe(false);
    const missing = parseRunnerEvent('{"type":"end","reason":"completed"}');
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error).toMatch(/exitCode/);
    expect(parseRunnerEvent(JSON.stringify({ ...step(1), record: { ...step(1).record, totalLoss: 'lots' } })).ok).toBe(false);
  });

  it('checks the init command where it enters the runner', () => {
    const init = {
      type: 'init',
      protocol: 2,
      scriptPath: '/ws/train.ts',
      workDir: '/tmp/loss-lens-x',
      channel: { path: '/tmp/loss-lens-x/channel', token: 'a'.repeat(32) },
      hostPid: 42,
      steps: 5,
      backend: 'auto',
    };
    const ok = parseInitCommand(init);
    expect(ok.ok && ok.value.args).toEqual([]);
    expect(parseInitCommand({ ...init, args: ['--epochs', '3'] }).ok).toBe(true);
    expect(parseInitCommand({ ...init, steps: 0 }).ok).toBe(false);
    expect(parseInitCommand({ ...init, backend: 'gpu' }).ok).toBe(false);
    expect(parseInitCommand({ ...init, protocol: 1 }).ok).toBe(false);
    expect(parseInitCommand({ ...init, args: [3] }).ok).toBe(false);
    expect(parseInitCommand('init').ok).toBe(false);
  });
});
