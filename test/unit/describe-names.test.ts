import { describe, expect, it } from 'vitest';
import { classNameOf, nameOf, thrownError, UNNAMED_CLASS, variableName } from '../../src/runner/probes/hooks/describe-names';
import { layerName } from '../../src/runner/probes/hooks/layer-descriptions';
import { optimizerInfo } from '../../src/runner/probes/hooks/optimizer-probe';
import { layersOf } from '../../src/runner/probes/hooks/load-sites';
import { parseRunnerEvent } from '../../src/shared/protocol/runner-protocol';
import { toWireJson } from '../../src/shared/protocol/wire-number';
import type { LayerLike, OptimizerLike } from '../../src/runner/tfjs-internals';

// The shape of tfjs's Serializable: getClassName() reads the constructor's static className, which a subclass the
// script never registered does not have (unless it inherits one).
class Serializable {
  static className: string | undefined;
  getClassName(): unknown {
    return (this.constructor as typeof Serializable).className;
  }
}
class Registered extends Serializable {
  static override className = 'GRUCell';
}
class MyCell extends Serializable {}

describe('classNameOf: a class name whatever the script registered', () => {
  it('the registered name, else the constructor name, else a placeholder', () => {
    expect(classNameOf(new Registered())).toBe('GRUCell');
    expect(classNameOf(new MyCell())).toBe('MyCell');
    // An anonymous class expression has an empty name.
    const anonymous = new (class extends Serializable {})();
    Object.defineProperty(anonymous.constructor, 'name', { value: '' });
    expect(classNameOf(anonymous)).toBe(UNNAMED_CLASS);
    expect(classNameOf(Object.create(null))).toBe(UNNAMED_CLASS);
    expect(classNameOf(undefined, 'Regularizer')).toBe('Regularizer');
  });

  it('a getClassName that throws or returns a non-string falls back to the constructor', () => {
    class Throws extends Serializable {
      override getClassName(): unknown {
        throw new Error('no');
      }
    }
    class Numbered extends Serializable {
      override getClassName(): unknown {
        return 7;
      }
    }
    expect(classNameOf(new Throws())).toBe('Throws');
    expect(classNameOf(new Numbered())).toBe('Numbered');
  });
});

describe('nameOf and variableName: names as strings', () => {
  it('keeps strings, writes numbers and booleans as text, puts a placeholder for the rest', () => {
    expect(nameOf('dense_Dense1', 'x')).toBe('dense_Dense1');
    expect(nameOf(42, 'x')).toBe('42');
    expect(nameOf(true, 'x')).toBe('true');
    expect(nameOf('', 'x')).toBe('x');
    expect(nameOf(undefined, 'x')).toBe('x');
    expect(nameOf({ toString: () => 'sneaky' }, 'x')).toBe('x');
    expect(variableName({ name: 3, id: 9 })).toBe('3');
    expect(variableName({ name: null, id: 9 })).toBe('(variable 9)');
  });

  it('a layer renamed to nothing gets a placeholder with its class and id, apart from every other layer', () => {
    const layer = Object.assign(new MyCell(), { name: undefined, id: 12 }) as unknown as LayerLike;
    expect(layerName(layer)).toBe('(unnamed MyCell 12)');
  });
});

describe('optimizerInfo: whatever a custom optimizer says of itself validates', () => {
  const event = (opt: object) => parseRunnerEvent(toWireJson({ type: 'optimizer', objective: 0, optimizer: optimizerInfo(opt as OptimizerLike) }));

  it('NaN and Infinity in getConfig arrive as numbers; objects, arrays and undefined are left out', () => {
    class Noisy extends Serializable {
      learningRate = 0.1;
      getConfig() {
        return { learningRate: 0.1, noise: Number.NaN, clip: Number.NEGATIVE_INFINITY, schedule: { warmup: 3 }, steps: [1, 2], gone: undefined, name: 'n' };
      }
    }
    const parsed = event(new Noisy());
    expect(parsed.ok).toBe(true);
    if (!parsed.ok || parsed.value.type !== 'optimizer') return;
    expect(parsed.value.optimizer.className).toBe('Noisy');
    expect(parsed.value.optimizer.config).toEqual({ learningRate: 0.1, noise: Number.NaN, clip: Number.NEGATIVE_INFINITY, name: 'n' });
  });

  it('a getConfig that returns nothing, or throws, still gives the class and the learning rate', () => {
    class Nothing extends Serializable {
      learningRate = 0.2;
      getConfig() {
        return null;
      }
    }
    class Throws extends Serializable {
      learningRate = 0.3;
      getConfig(): never {
        throw new Error('not serializable');
      }
    }
    expect(optimizerInfo(new Nothing() as unknown as OptimizerLike)).toEqual({ className: 'Nothing', config: { learningRate: 0.2 } });
    expect(optimizerInfo(new Throws() as unknown as OptimizerLike)).toEqual({ className: 'Throws', config: { learningRate: 0.3 } });
    expect(event(new Nothing()).ok).toBe(true);
  });
});

describe('layersOf: every layer a loaded model holds', () => {
  it('walks nested models and the cells and layers wrappers hold, once each', () => {
    const layer = (name: string, extra: object = {}) => Object.assign(new MyCell(), { name, _losses: [] }, extra);
    const cell = layer('cell');
    const rnn = layer('rnn', { cell });
    const inner = layer('inner_model', { layers: [rnn] });
    const dense = layer('dense');
    const model = layer('model', { layers: [inner, dense, dense] });
    expect(layersOf(model).map((l) => l.name)).toEqual(['model', 'inner_model', 'rnn', 'cell', 'dense']);
    expect(layersOf(null)).toEqual([]);
  });
});

describe('thrownError: whatever the script threw, as strings', () => {
  it('an Error with a number for its name and message, a string, a null-prototype object', () => {
    const e = Object.assign(new Error('x'), { name: 42, message: 7 });
    expect(thrownError(e)).toMatchObject({ name: '42', message: '7' });
    expect(thrownError(e).stack).toEqual(expect.any(String));
    expect(thrownError('plain')).toEqual({ name: 'Error', message: 'plain', stack: null });
    expect(thrownError(Object.create(null))).toEqual({ name: 'Error', message: '[object Object]', stack: null });
    const noName = Object.assign(new Error('m'), { name: undefined });
    expect(thrownError(noName).name).toBe('Error');
  });
});
