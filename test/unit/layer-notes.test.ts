import { describe, expect, it } from 'vitest';
import { layerNotes } from '../../src/shared/analysis/layer-notes';
import { readStream, stateFrom, wire } from '../helpers/events';
import { L2, syntheticRun } from '../helpers/synthetic-run';

describe('inline notes on layer lines', () => {
  it('says a dropped penalty never reaches the minimized loss', () => {
    const notes = layerNotes(stateFrom(readStream('custom-loop-drops-penalty')));
    expect(notes.map((n) => [n.line, n.text, n.tone])).toEqual([
      [20, '⚠ L2 1e-3 never reaches the minimized loss', 'missing'],
      [23, '⚠ L2 1e-3 never reaches the minimized loss', 'missing'],
      [26, '⚠ L2 1e-3 never reaches the minimized loss', 'missing'],
    ]);
    const w = notes[0].layers[0].weights[0];
    expect(w).toMatchObject({ shortName: 'kernel', reaches: false, decayPerStep: 1, share: 0 });
    expect(w.norm).toBeGreaterThan(0);
  });

  it('says a penalty that is added reaches the loss, with its share of it', () => {
    const notes = layerNotes(stateFrom(readStream('custom-loop-with-penalty')));
    expect(notes[0].text).toBe('L2 1e-3 on kernel · reaches loss');
    const w = notes[0].layers[0].weights[0];
    expect(w.share).toBeGreaterThan(0);
    expect(w.share).toBeLessThan(1);
    expect(w.decayPerStep).toBeCloseTo(0.9998, 6);
  });

  it('sums up a line that creates several layers', () => {
    const events = syntheticRun({
      layers: [1, 2, 3].map((i) => ({ name: `d${i}`, line: 12, weights: [{ name: 'kernel', reg: L2(1e-3) }, { name: 'bias' }] })),
      steps: [{ total: 1, penalties: { 'd1/kernel': [0.1, false], 'd2/kernel': [0.1, false], 'd3/kernel': [0.1, false] } }],
    });
    const [note] = layerNotes(stateFrom(wire(events)));
    expect(note.text).toBe('3 layers · L2 1e-3 · ⚠ none reach the loss');
    expect(note.layers).toHaveLength(3);
  });

  it('says no decay, and waits before the first step', () => {
    const events = syntheticRun({
      layers: [
        { name: 'a', line: 3, weights: [{ name: 'kernel' }] },
        { name: 'b', line: 4, weights: [{ name: 'kernel', reg: L2(1e-3) }] },
      ],
      steps: [],
    });
    const notes = layerNotes(stateFrom(wire(events.filter((e) => e.type === 'layers'))));
    expect(notes.map((n) => n.text)).toEqual(['no decay', 'L2 1e-3 on kernel · waiting for a step']);
    // "no decay" is quiet: the editor hides it unless lossLens.decorations.showUndecayed is on.
    expect(notes.map((n) => n.quiet)).toEqual([true, false]);
  });
});
