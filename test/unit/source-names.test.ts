import { describe, expect, it } from 'vitest';
import { bindingAt } from '../../src/runner/probes/hooks/source-names';

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

describe('names on and after a very long line (an inlined data table)', () => {
  // One 200 KB run of identifier characters, as a hex-encoded table is: the old `$`-anchored regexes retried
  // `[\w$]*` from every position of it, quadratic in its length (15 s for one lookup).
  const hex = (n: number) => Array.from({ length: n / 8 }, (_, i) => ((i * 2654435761) >>> 0).toString(16).padStart(8, '0')).join('');
  const table = `const TABLE = '${hex(200_000)}'`;

  it('the names after it are still right, in a file without semicolons', () => {
    expect(nameAt(`${table}\npenalties.push(tf.mul(1e-3, tf.sum(tf.square(w))))`, 'tf.mul')).toBe('penalties');
    expect(nameAt(`${table}\nconst total = tf.add(ce, reg)`, 'tf.add')).toBe('total');
    expect(nameAt(`${table}\nconst ce: tf.Scalar = tf.losses.meanSquaredError(ys, p)`, 'tf.losses')).toBe('ce');
    expect(nameAt(`${table}\nconst terms = { l2: tf.mul(1e-3, s) }`, 'tf.mul')).toBe('l2');
    expect(nameAt(`${table}\nopt.minimize(() => tf.add(ce, reg))`, 'tf.add')).toBeNull();
    const strict = (code: string, marker: string) => {
      const lines = code.split('\n');
      return bindingAt(lines, lines.length, lines[lines.length - 1].indexOf(marker) + 1, true);
    };
    expect(strict(`${table}\nconst lstm = tf.layers.lstm({ units: 4 })`, 'tf.layers')).toBe('lstm');
    expect(strict(`${table}\nmodel.add(tf.layers.lstm({ units: 4 }))`, 'tf.layers')).toBeNull();
  });

  it('and on the long line itself, after the table', () => {
    expect(nameAt(`${table}; const total = tf.add(ce, reg);`, 'tf.add')).toBe('total');
    expect(nameAt(`const xs = tf.tensor1d([${Array.from({ length: 30_000 }, (_, i) => i / 7).join(', ')}]), penalty = tf.mul(1e-3, s);`, 'tf.mul')).toBe('penalty');
  });

  it('an annotation is not read across lines or brackets: a table of objects before the name does not name it', () => {
    const objects = `const T = [${Array.from({ length: 2_000 }, (_, i) => `{x: ${i}, y: ${i}}`).join(', ')}]`;
    expect(nameAt(`${objects}\nconst loss = tf.add(a, b)`, 'tf.add')).toBe('loss');
  });

  it('the work is linear in the text: 4× the line, at most 4× the characters visited', () => {
    const visited = (n: number, code: (t: string) => string, marker: string, strict = false) => {
      const lines = code(`const TABLE = '${hex(n)}'`).split('\n');
      const last = lines.length;
      const meter = { visited: 0 };
      bindingAt(lines, last, lines[last - 1].lastIndexOf(marker) + 1, strict, meter);
      return meter.visited;
    };
    const shapes: Array<[(t: string) => string, string, boolean?]> = [
      [(t) => `${t}\npenalties.push(tf.mul(1e-3, s))`, 'tf.mul'],
      [(t) => `${t}\nconst total = tf.add(ce, reg)`, 'tf.add'],
      [(t) => `${t}\nconst lstm = tf.layers.lstm({})`, 'tf.layers', true],
      // The worst case for a right-to-left scan: nothing stops it before the table, which it reads entirely.
      [(t) => `f(${t.replace(/'/g, '')} ? a : b ? c : d ? e : tf.add(x, y))`, 'tf.add'],
      [(t) => `${t.replace(/'/g, '')} ${': x ? '.repeat(t.length / 64)}tf.add(x, y)`, 'tf.add'],
    ];
    for (const [code, marker, strict] of shapes) {
      const small = visited(2_000, code, marker, strict);
      const large = visited(8_000, code, marker, strict);
      expect(large).toBeLessThanOrEqual(4 * small + 64);
      // And never more than a few visits per character of the text it could read.
      expect(large).toBeLessThanOrEqual(3 * code(`const TABLE = '${hex(8_000)}'`).length);
    }
  });
});
