import { describe, expect, it } from 'vitest';
import { bindingAt } from '../../src/runner/probes/source-names';

/** The name at the position of `marker` (its first character) in `code`. */
function nameAt(code: string, marker: string): string | null {
  const lines = code.split('\n');
  const line = lines.findIndex((l) => l.includes(marker));
  if (line < 0) throw new Error(`no ${marker}`);
  return bindingAt(lines, line + 1, lines[line].indexOf(marker) + 1);
}

describe('the name the user gives a value at its line', () => {
  it('a declaration, an assignment, a typed declaration, a compound assignment', () => {
    expect(nameAt('const totalLoss = tf.addN([ce, ...penalties]);', 'tf.addN')).toBe('totalLoss');
    expect(nameAt('  total = tf.add(total, p);', 'tf.add')).toBe('total');
    expect(nameAt('const ce: tf.Scalar = tf.losses.softmaxCrossEntropy(y, logits);', 'tf.losses')).toBe('ce');
    expect(nameAt('  this.loss = tf.mean(x);', 'tf.mean')).toBe('loss');
    expect(nameAt('reg += tf.sum(tf.square(w));', 'tf.sum')).toBe('reg');
  });

  it('a method chain, also on a continuation line', () => {
    expect(nameAt('const crossEntropy = tf.losses.softmaxCrossEntropy(ys, logits).mean();', 'mean()')).toBe('crossEntropy');
    expect(nameAt('const crossEntropy = tf.losses\n  .softmaxCrossEntropy(ys, logits)\n  .mean();', 'mean()')).toBe('crossEntropy');
  });

  it('a list built with push or map, an object property', () => {
    expect(nameAt('for (const w of ws) penalties.push(tf.mul(wd, tf.sum(tf.square(w))));', 'tf.mul')).toBe('penalties');
    expect(nameAt('const penalties = vars.map((w) => tf.mul(tf.sum(tf.square(w)), wd / 2));', 'tf.mul')).toBe('penalties');
    expect(nameAt('const terms = { l2: tf.mul(1e-3, tf.sum(tf.square(w))) };', 'tf.mul')).toBe('l2');
  });

  it('no name for an argument, a return, a comparison or an arrow body', () => {
    expect(nameAt('const total = tf.add(ce, tf.mul(1e-3, s));', 'tf.mul')).toBeNull();
    expect(nameAt('  return tf.add(ce, reg);', 'tf.add')).toBeNull();
    expect(nameAt('if (a === tf.sum(w)) {}', 'tf.sum')).toBeNull();
    expect(nameAt('opt.minimize(() => tf.losses.meanSquaredError(y, p));', 'tf.losses')).toBeNull();
    expect(nameAt('model.add(tf.layers.dense({ units: 2 }));', 'tf.layers')).toBeNull();
  });

  it('strictly, for code a quick fix writes: only a direct assignment, with its member chain', () => {
    const strict = (code: string, marker: string) => {
      const lines = code.split('\n');
      const line = lines.findIndex((l) => l.includes(marker));
      return bindingAt(lines, line + 1, lines[line].indexOf(marker) + 1, true);
    };
    expect(strict('const lstm = tf.layers.lstm({ units: 4 });', 'tf.layers')).toBe('lstm');
    // V8 places a call at its property: the callee's chain comes before the position.
    expect(strict('const lstm = tf.layers.lstm({ units: 4 });', 'lstm({')).toBe('lstm');
    expect(strict('model.add(tf.layers.lstm({ units: 2 }));', 'lstm({')).toBeNull();
    expect(strict('    this.encoder = tf.layers.gru({', 'tf.layers')).toBe('this.encoder');
    expect(strict('export const cell: tf.RNN = tf.layers.lstm({', 'tf.layers')).toBe('cell');
    expect(strict('const model = tf.sequential({\n  layers: [\n    tf.layers.lstm({', 'tf.layers.lstm')).toBeNull();
    expect(strict('model.add(tf.layers.lstm({ units: 2 }));', 'tf.layers')).toBeNull();
    expect(strict('const layers = [tf.layers.lstm({ units: 2 })];', 'tf.layers')).toBeNull();
  });

  it('a line outside the file has no name', () => {
    expect(bindingAt(['const a = 1;'], 5, 1)).toBeNull();
  });
});
