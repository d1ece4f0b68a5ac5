import { describe, expect, it } from 'vitest';
import { hoverMarkdown, noWrap } from '../../src/host/editor/layer-hover';
import { layerNotes } from '../../src/shared/analysis/layer-notes';
import { shortText } from '../../src/shared/analysis/finding';
import { makeFinding } from '../../src/shared/analysis/rules/registry';
import { readStream, stateFrom } from '../helpers/events';

const link = (layer: string) => `command:show?${layer}`;
/** The table's rows as cells, with the no-wrap characters read back as plain text. */
function tableRows(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('|') && !l.startsWith('|---'))
    .map((l) => l.slice(1, -1).split(' | ').map((c) => c.trim().replace(/\u00a0/g, ' ').replace(/\u2060/g, '')));
}

describe('the inline note hover', () => {
  it('puts the table first, before the note and the sentences', () => {
    const [note] = layerNotes(stateFrom(readStream('adam-l2-decay')));
    const md = hoverMarkdown(note, link);
    expect(md.startsWith('| weight | shape |')).toBe(true);
    expect(md.indexOf('**Loss Lens**')).toBeGreaterThan(md.indexOf('|---'));
    expect(md).toContain('[Show in Loss Graph](command:show?');
  });

  it('fills the SGD decay column under an adaptive optimizer with the plain-SGD reference the sentence gives', () => {
    const [note] = layerNotes(stateFrom(readStream('adam-l2-decay')));
    const [header, kernel] = tableRows(hoverMarkdown(note, link));
    expect(header[4]).toBe('decay/step (SGD)');
    expect(kernel[0]).toBe('`kernel`');
    // lr 1e-3 · 2 · l2 1e-3 = 2e-6: the footnote's "plain SGD with this L2: 2e-6".
    expect(kernel[4]).toBe('×0.999998');
    expect(note.layers[0].weights[0].decaySentence).toContain('plain SGD with this L2: 2e-6');
    for (const cell of kernel) expect(cell).not.toBe('—');
  });

  it('never lets a number wrap: no plain space or breakable hyphen inside a cell', () => {
    for (const stream of ['adam-l2-decay', 'custom-loop-drops-penalty', 'hand-written-l2-dropped']) {
      for (const note of layerNotes(stateFrom(readStream(stream)))) {
        const rows = hoverMarkdown(note, link).split('\n').filter((l) => l.startsWith('|') && !l.startsWith('|---')).slice(1);
        for (const row of rows) {
          const cells = row.slice(2, -2).split(' | ');
          for (const c of cells) {
            expect(c).not.toMatch(/ /);
            expect(c).not.toMatch(/-(?!\u2060)/);
          }
        }
      }
    }
    expect(noWrap('L2 1e-3')).toBe('L2\u00a01e-\u20603');
  });

  it('says a dropped penalty on a tf.variable shrinks nothing, naming it a variable, never "shrinks this kernel 0"', () => {
    const notes = layerNotes(stateFrom(readStream('hand-written-l2-dropped')));
    const sentences = notes.flatMap((n) => n.layers.flatMap((l) => l.weights.map((w) => w.decaySentence))).filter((s): s is string => s !== null);
    expect(sentences.length).toBeGreaterThan(0);
    for (const s of sentences) {
      expect(s).not.toMatch(/this kernel/);
      expect(s).not.toMatch(/ 0 per step/);
    }
    expect(sentences.some((s) => /never reaches the minimized loss, so .* does not shrink this variable/.test(s))).toBe(true);
  });
});

describe('a finding in short, for its CodeLens', () => {
  it('keeps the first clause and cuts what is long', () => {
    const f = makeFinding('regularizer-not-in-loss', 'L2 1e-3 on dense_Dense1/kernel never reaches the minimized loss: it decays nothing (6 steps). Add model.calculateLosses().');
    expect(shortText(f)).toBe('L2 1e-3 on dense_Dense1/kernel never reaches the minimized loss');
    expect(shortText(makeFinding('script-error', 'The script failed. x'))).toBe('The script failed');
    expect(shortText(makeFinding('script-error', 'Coefficient 2.5e-3 is odd.'))).toBe('Coefficient 2.5e-3 is odd');
    const long = shortText(makeFinding('script-error', 'x'.repeat(300)));
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });
});
