import { describe, expect, it } from 'vitest';
import { parseHostToRunner, parseRunnerEvent } from '../../src/shared/protocol/runner-protocol';
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

  it('checks commands where they enter the runner', () => {
    expect(parseHostToRunner({ type: 'stop' }).ok).toBe(true);
    expect(parseHostToRunner({ type: 'init', protocol: 1, bundlePath: 'b', scriptPath: 's', userSources: [], steps: 0, backend: 'auto' }).ok).toBe(false);
    expect(parseHostToRunner({ type: 'init', protocol: 1, bundlePath: 'b', scriptPath: 's', userSources: [], steps: 5, backend: 'gpu' }).ok).toBe(false);
    expect(parseHostToRunner('stop').ok).toBe(false);
  });
});
