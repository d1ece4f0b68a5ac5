import { describe, expect, it } from 'vitest';
import { LineTracker, moveLine } from '../../src/host/editor/line-tracker';
import { minimizeFix } from '../../src/host/editor/minimize-fix';

const apply = (text: string, typescript = true) => {
  const offset = text.indexOf('minimize');
  const fix = minimizeFix(text, offset, typescript);
  return fix ? text.slice(0, fix.start) + fix.newText + text.slice(fix.end) : null;
};

describe('the minimize quick fix', () => {
  it('adds the penalties to a block body return, keeping the cast valid in TypeScript', () => {
    const text = [
      "import * as tf from '@tensorflow/tfjs';",
      'const net = tf.sequential();',
      'const loss = optimizer.minimize(() => {',
      '  const logits = net.apply(x) as tf.Tensor;',
      "  const inner = () => { return 'not this'; };",
      '  return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar; // the data loss',
      '}, true);',
    ].join('\n');
    expect(apply(text)).toContain(
      '  return tf.add(tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar, tf.addN(net.calculateLosses())) as tf.Scalar; // the data loss',
    );
    expect(apply(text)).toContain("const inner = () => { return 'not this'; };");
  });

  it('wraps an expression body, in JavaScript with a require()d namespace', () => {
    const text = [
      "const tfn = require('@tensorflow/tfjs-node');",
      'const model = tfn.sequential();',
      'opt.minimize(() => tfn.losses.meanSquaredError(ys, model.predict(xs)), false, vars);',
    ].join('\n');
    expect(apply(text, false)).toBe(
      [
        "const tfn = require('@tensorflow/tfjs-node');",
        'const model = tfn.sequential();',
        'opt.minimize(() => tfn.add(tfn.losses.meanSquaredError(ys, model.predict(xs)), tfn.addN(model.calculateLosses())), false, vars);',
      ].join('\n'),
    );
  });

  it('copes with strings, templates and comments that contain brackets', () => {
    const text = 'opt.minimize(() => {\n  log(`step ${i} (of ${n})`); // ) }\n  const s = ")";\n  return lossFn(a, b);\n});';
    expect(apply(text)).toContain('return tf.add(lossFn(a, b), tf.addN(model.calculateLosses())) as tf.Scalar;');
  });

  it('offers nothing when the callback already adds calculateLosses, or is not a function literal', () => {
    expect(apply('opt.minimize(() => tf.add(l, tf.addN(model.calculateLosses())));')).toBeNull();
    expect(apply('opt.minimize(lossFunction);')).toBeNull();
  });
});

describe('moving annotated lines with edits', () => {
  it('shifts lines below an edit, keeps a line edited inside, drops a line that was replaced', () => {
    const edit = (startLine: number, startCharacter: number, endLine: number, endCharacter: number, newLineCount: number) => ({
      startLine,
      startCharacter,
      endLine,
      endCharacter,
      newLineCount,
    });
    // Two lines inserted above.
    expect(moveLine(10, edit(2, 0, 2, 0, 3))).toBe(12);
    expect(moveLine(1, edit(2, 0, 5, 0, 1))).toBe(1);
    // Typing inside the line keeps it.
    expect(moveLine(4, edit(4, 20, 4, 22, 1))).toBe(4);
    // Deleting the whole line 4 (4:0–5:0) removes its note and moves line 5 up.
    expect(moveLine(4, edit(4, 0, 5, 0, 1))).toBeNull();
    expect(moveLine(5, edit(4, 0, 5, 0, 1))).toBe(4);
    // A multi-line replacement that swallows the line's beginning.
    expect(moveLine(4, edit(2, 3, 6, 1, 1))).toBeNull();
    expect(moveLine(6, edit(2, 3, 6, 1, 1))).toBeNull();
  });
  it('applies a sequence of edits in order', () => {
    const t = new LineTracker([
      { line: 3, value: 'a' },
      { line: 8, value: 'b' },
    ]);
    t.apply([
      { startLine: 0, startCharacter: 0, endLine: 0, endCharacter: 0, newLineCount: 2 },
      { startLine: 9, startCharacter: 0, endLine: 10, endCharacter: 0, newLineCount: 1 },
    ]);
    expect(t.current()).toEqual([{ line: 4, value: 'a' }]);
  });
});
