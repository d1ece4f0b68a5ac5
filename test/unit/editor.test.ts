import { describe, expect, it } from 'vitest';
import { LineTracker, moveLine } from '../../src/host/editor/line-tracker';
import { applyEdits, decoupledDecayFix } from '../../src/host/editor/decoupled-fix';
import { compileLossFix, minimizeFix } from '../../src/host/editor/minimize-fix';

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

  it("adds an RNN cell's penalties a finding names, even where model.calculateLosses() is already added", () => {
    const text = 'opt.minimize(() => tf.add(mse(), tf.addN(model.calculateLosses())));';
    const fix = minimizeFix(text, 0, false, 'lstm.cell.calculateLosses()');
    expect(fix?.penalties).toBe('lstm.cell.calculateLosses()');
    expect(text.slice(0, fix!.start) + fix!.newText + text.slice(fix!.end)).toBe(
      'opt.minimize(() => tf.add(tf.add(mse(), tf.addN(model.calculateLosses())), tf.addN(lstm.cell.calculateLosses())));',
    );
    const byName = minimizeFix('const net = tf.sequential();\nopt.minimize(() => net.apply(x));', 30, false, "$model.getLayer('gru_GRU1').cell.calculateLosses()");
    expect(byName?.newText).toBe("tf.add(net.apply(x), tf.addN(net.getLayer('gru_GRU1').cell.calculateLosses()))");
    expect(minimizeFix('opt.minimize(() => tf.add(l, tf.addN(lstm.cell.calculateLosses())));', 0, false, 'lstm.cell.calculateLosses()')).toBeNull();
  });
});

describe('the compile quick fix (model.fit, an RNN cell’s penalties)', () => {
  const apply = (text: string, typescript = false, penalties = 'lstm.cell.calculateLosses()') => {
    const fix = compileLossFix(text, text.indexOf('.fit('), typescript, penalties);
    return fix ? text.slice(0, fix.start) + fix.newText + text.slice(fix.end) : null;
  };

  it("replaces a named loss with the per-example loss of tf.metrics plus the cell's penalties", () => {
    const text = "model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });\nawait model.fit(xs, ys);";
    expect(apply(text)).toBe(
      "model.compile({ optimizer: 'sgd', loss: (yTrue, yPred) => tf.add(tf.metrics.meanSquaredError(yTrue, yPred), tf.addN(lstm.cell.calculateLosses())) });\nawait model.fit(xs, ys);",
    );
    expect(apply("m.compile({ loss: 'categoricalCrossentropy', optimizer: 'adam' });\nm.fit(x, y);", true, "$model.getLayer('g').cell.calculateLosses()")).toBe(
      "m.compile({ loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.add(tf.metrics.categoricalCrossentropy(yTrue, yPred), tf.addN(m.getLayer('g').cell.calculateLosses())), optimizer: 'adam' });\nm.fit(x, y);",
    );
  });

  it('wraps a loss function reference, picks the compile before the fit, and offers nothing it cannot rewrite', () => {
    const text = "a.compile({ loss: 'mse' });\nmodel.compile({ loss: myLoss });\nmodel.fit(x, y);\nlater.compile({ loss: 'mae' });";
    expect(apply(text)).toContain('model.compile({ loss: (yTrue, yPred) => tf.add(myLoss(yTrue, yPred), tf.addN(lstm.cell.calculateLosses())) });');
    expect(apply("model.compile({ loss: 'hinge' });\nmodel.fit(x, y);")).toBeNull();
    expect(apply("model.compile({ optimizer: 'sgd' });\nmodel.fit(x, y);")).toBeNull();
    expect(apply('model.fit(x, y);')).toBeNull();
  });
});

describe('the quick fixes in a file with a 200 KB line (an inlined hex data table)', () => {
  // One word of 200,000 identifier characters: a receiver pattern `([\w$]+)\.compile(` retried from each of its
  // characters was quadratic in its length. Each fix must still find its call, once, after the table.
  const table = `const TABLE = '${Array.from({ length: 25_000 }, (_, i) => ((i * 2654435761) >>> 0).toString(16).padStart(8, '0')).join('')}';`;

  it('the compile fix and the minimize fix', () => {
    const fit = `${table}\nmodel.compile({ loss: 'meanSquaredError' });\nmodel.fit(xs, ys);`;
    const compiled = compileLossFix(fit, fit.indexOf('.fit('), false, 'lstm.cell.calculateLosses()');
    expect(compiled && fit.slice(0, compiled.start) + compiled.newText + fit.slice(compiled.end)).toContain(
      "model.compile({ loss: (yTrue, yPred) => tf.add(tf.metrics.meanSquaredError(yTrue, yPred), tf.addN(lstm.cell.calculateLosses())) });",
    );
    const loop = `${table}\nconst net = tf.sequential();\nopt.minimize(() => tf.losses.meanSquaredError(ys, net.predict(${table.slice(15, -2)}x)));`;
    expect(minimizeFix(loop, loop.indexOf('opt.minimize'), false)?.newText).toMatch(/^tf\.add\(tf\.losses\.meanSquaredError\(.*, tf\.addN\(net\.calculateLosses\(\)\)\)$/s);
  });

  it('the decoupled-decay fix', () => {
    const text = `${table}\nconst dense = tf.layers.dense({ units: 2, kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }) });\nawait model.fit(xs, ys);\n`;
    const layerLine = 2;
    const plan = {
      layers: [{ name: 'dense_Dense1', binding: 'dense' }],
      weights: [{ short: 'kernel', property: 'kernelRegularizer' }],
      l2: 1e-3,
      learningRate: 0.001,
      optimizer: 'Adam',
      layerSource: { file: 'train.js', line: layerLine, column: 15 },
      training: null,
      trainingFile: 'train.js',
      coversAll: true,
    };
    const fix = decoupledDecayFix(plan, { file: 'train.js', text }, { file: 'train.js', text }, false);
    const after = applyEdits(text, fix!.edits);
    expect(after).toContain('const dense = tf.layers.dense({ units: 2 });');
    expect(after).toContain("await model.fit(xs, ys, { callbacks: { onBatchEnd: () => applyDecoupledWeightDecay([dense], ['kernel'], 0.001, 0.002)");
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
