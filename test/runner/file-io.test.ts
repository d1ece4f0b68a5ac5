import { describe, expect, it } from 'vitest';
import { analyze, fixtureScript } from '../helpers/run';

describe('tfjs-node parity on the wasm fallback', () => {
  it("model.save('file://…') and tf.loadLayersModel('file://…/model.json') work as under tfjs-node", async () => {
    const { report, output } = await analyze(fixtureScript('saves-with-file-url.js'), { steps: 50 });
    expect(report.status).toBe('completed');
    expect(report.backend?.name).toBe('wasm');
    expect(output).toContain('saved model.json,weights.bin reloaded max diff 0');
    expect(report.steps).toBe(2);
    // Nothing wrong; the one info says its L2 hardly acts over the 2 steps fit plans (the decay's timescale).
    expect(report.findings.map((f) => [f.severity, f.ruleId])).toEqual([['info', 'decay-too-weak-for-run']]);
  });
});
