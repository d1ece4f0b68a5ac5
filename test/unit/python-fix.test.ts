import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFix, minimizedSumFix, tapeLossFix } from '../../src/host/editor/python-fix';
import { fixedExample, PYTHON_EXAMPLES } from '../helpers/python-fix';

/**
 * The Python quick fixes for regularizer-not-in-loss (python-fix.ts) on the real examples, driven by the event
 * streams the Python runner recorded on them (test/fixtures/streams/python-*.ndjson): the finding and the run's
 * graph decide the edit, as in the editor. test/cli/python-quick-fix.test.ts runs the edited scripts.
 */
const exampleText = (name: string) => fs.readFileSync(path.join(PYTHON_EXAMPLES, `${name}.py`), 'utf8');
const lineOf = (text: string, n: number) => text.split('\n')[n - 1];

describe('Python quick fixes for regularizer-not-in-loss, from recorded runs', () => {
  it("a Keras tape loop that never reads model.losses: the tape's loss line adds tf.add_n(model.losses)", async () => {
    const fixed = await fixedExample('python-tape-forgets');
    expect(fixed?.file).toBe('tape_loop_forgets_model_losses.py');
    expect(fixed?.title).toBe("Add the model's penalties (tf.add_n(model.losses)) to the minimized loss");
    expect(lineOf(fixed!.text, 31)).toBe('        loss = bce(y, model(x, training=True)) + tf.add_n(model.losses)  # should be: bce(...) + tf.add_n(model.losses)');
    // Only that line changes.
    const before = exampleText('tape_loop_forgets_model_losses').split('\n');
    expect(fixed!.text.split('\n').filter((l, i) => l !== before[i])).toHaveLength(1);
  });

  it('seed 000 (TF1): the minimize call takes the get_total_loss() sum instead of the cross-entropy', async () => {
    const fixed = await fixedExample('python-seed000-tf1-sum');
    expect(fixed?.title).toBe('Minimize total_loss, the sum with the penalties, instead of cross_entropy');
    expect(lineOf(fixed!.text, 45)).toBe('train_op = opt.minimize(total_loss)');
  });

  it("seed 002 (TF1): the CIFAR-10 train op minimizes the 'losses' collection's total_loss", async () => {
    const fixed = await fixedExample('python-seed002-cifar10-sum');
    expect(lineOf(fixed!.text, 49)).toBe('train_op = v1.train.GradientDescentOptimizer(0.1).minimize(total_loss)  # should minimize total_loss');
  });

  it('a tf.function step that builds total but differentiates loss: tape.gradient takes total', async () => {
    const fixed = await fixedExample('python-tf-function-sum');
    expect(lineOf(fixed!.text, 33)).toBe('    grads = tape.gradient(total, model.trainable_variables)  # should be: tape.gradient(total, ...)');
  });
});

describe('Python quick fixes only where the code is recognized for certain', () => {
  const tape = exampleText('tape_loop_forgets_model_losses');
  const replaceLine = (text: string, n: number, line: string) => text.split('\n').map((l, i) => (i === n - 1 ? line : l)).join('\n');

  it('adds to a train_step loss the penalties of self', () => {
    const text = [
      'import tensorflow as tf',
      'class Net(tf.keras.Model):',
      '    def train_step(self, data):',
      '        x, y = data',
      '        with tf.GradientTape() as tape:',
      '            loss = self.compute_loss(y=y, y_pred=self(x, training=True))',
      '        grads = tape.gradient(loss, self.trainable_variables)',
      '        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))',
      '        return {"loss": loss}',
    ].join('\n');
    const fix = tapeLossFix(text, 6, 'loss');
    expect(lineOf(applyFix(text, fix!), 6)).toBe('            loss = self.compute_loss(y=y, y_pred=self(x, training=True)) + tf.add_n(self.losses)');
  });

  it('writes the name the script imports TensorFlow as, and offers nothing without that import', () => {
    const aliased = tape.replace('import tensorflow as tf', 'import tensorflow as tensor').replace('with tf.GradientTape()', 'with tensor.GradientTape()');
    expect(applyFix(aliased, tapeLossFix(aliased, 31, 'loss')!)).toContain('+ tensor.add_n(model.losses)');
    expect(tapeLossFix(tape.replace('import tensorflow as tf', 'from tensorflow import GradientTape'), 31, 'loss')).toBeNull();
  });

  it('offers nothing for a loss line it cannot read whole, or where a + would not add to all of it', () => {
    expect(tapeLossFix(replaceLine(tape, 31, '        loss = bce(y,'), 31, 'loss')).toBeNull();
    expect(tapeLossFix(replaceLine(tape, 31, '        loss = a if step else bce(y, model(x))'), 31, 'loss')).toBeNull();
    expect(tapeLossFix(replaceLine(tape, 31, '        loss = bce(y, model(x)) \\'), 31, 'loss')).toBeNull();
    expect(tapeLossFix(replaceLine(tape, 31, '        loss = """'), 31, 'loss')).toBeNull();
    expect(tapeLossFix(replaceLine(tape, 31, '        loss = bce(y, model(x)) + tf.add_n(model.losses)'), 31, 'loss')).toBeNull();
  });

  it('offers nothing outside a GradientTape block, for another name, or when the gradient is of something else', () => {
    expect(tapeLossFix(tape, 31, 'total')).toBeNull();
    expect(tapeLossFix(tape.replace('with tf.GradientTape() as tape:', 'with ctx() as tape:'), 31, 'loss')).toBeNull();
    expect(tapeLossFix(tape.replace('tape.gradient(loss,', 'tape.gradient(other,'), 31, 'loss')).toBeNull();
    expect(tapeLossFix(tape.replace('model.trainable_variables)\n    optimizer', 'variables)\n    optimizer'), 31, 'loss')).toBeNull();
  });

  it('replaces only a bare minimized name in the TF1 call, after the sum, in its block', () => {
    const seed = exampleText('seed000_slim_collection_dropped');
    const at = { sumLine: 42, sum: 'total_loss', name: 'cross_entropy', callLine: 45 };
    expect(minimizedSumFix(seed.replace('opt.minimize(cross_entropy)', 'opt.minimize(cross_entropy * 2.0)'), at)).toBeNull();
    const keyword = seed.replace('opt.minimize(cross_entropy)', 'opt.minimize(loss=cross_entropy)');
    expect(lineOf(applyFix(keyword, minimizedSumFix(keyword, at)!), 45)).toBe('train_op = opt.minimize(loss=total_loss)');
    expect(minimizedSumFix(seed, { ...at, callLine: 41 })).toBeNull();
    expect(minimizedSumFix(seed, { ...at, sumLine: 43 })).toBeNull();
    expect(minimizedSumFix(seed, { ...at, sum: 'tf.add_n(x)' })).toBeNull();
  });
});
