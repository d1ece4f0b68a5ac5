import { describe, expect, it } from 'vitest';
import { MATRIX_BACKENDS } from '../helpers/backends';
import { analyze, fixtureScript } from '../helpers/run';

// On wasm, Loss Lens's own file:// routers stand in for tfjs-node's; on tensorflow, tfjs-node's own run.
describe.each(MATRIX_BACKENDS)('file:// save and load, on %s', (backend) => {
  it("model.save('file://…') and tf.loadLayersModel('file://…/model.json') work as under tfjs-node", async () => {
    const { report, output } = await analyze(fixtureScript('saves-with-file-url.js'), { steps: 50, backend });
    expect(report.status).toBe('completed');
    expect(report.backend?.name).toBe(backend);
    expect(output).toContain('saved model.json,weights.bin reloaded max diff 0');
    expect(report.steps).toBe(2);
    // Nothing wrong; the one info says its L2 hardly acts over the 2 steps fit plans (the decay's timescale).
    expect(report.findings.map((f) => [f.severity, f.ruleId])).toEqual([['info', 'decay-too-weak-for-run']]);
  });
});
