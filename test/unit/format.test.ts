import { describe, expect, it } from 'vitest';
import {
  displaySafe,
  formatCoefficient,
  formatFactor,
  formatInt,
  formatNumber,
  formatPercent,
  formatShape,
} from '../../src/shared/format';

describe('one formatter for each kind of number', () => {
  it('measured values: 4 significant digits in the usual range, exponents outside it, names for non-finite', () => {
    expect(formatNumber(1.40234)).toBe('1.402');
    expect(formatNumber(0.0903712)).toBe('0.09037');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(123456)).toBe('1.23e5');
    expect(formatNumber(0.000123456)).toBe('1.23e-4');
    expect(formatNumber(-2e-7)).toBe('-2e-7');
    expect(formatNumber(1e30)).toBe('1e30');
    expect(formatNumber(Number.NaN)).toBe('NaN');
    expect(formatNumber(-Infinity)).toBe('-Infinity');
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(1.23456789, 6)).toBe('1.23457');
  });
  it('coefficients as people write them, factors with enough digits to differ from 1', () => {
    expect(formatCoefficient(1e-3)).toBe('1e-3');
    expect(formatCoefficient(0.1)).toBe('0.1');
    expect(formatCoefficient(Infinity)).toBe('Infinity');
    expect(formatFactor(1 - 2 * 0.1 * 1e-3)).toBe('0.9998');
    // Six digits would round it to 1, which says nothing: what it takes away is shown instead.
    expect(formatFactor(1 - 2e-7)).toBe('1 − 2e-7');
    expect(formatFactor(1 + 3e-8)).toBe('1 + 3e-8');
    expect(formatFactor(1)).toBe('1');
    expect(formatFactor(0.99999)).toBe('0.99999');
  });
  it('percentages, counts and shapes', () => {
    expect(formatPercent(1, 16)).toBe('6.3%');
    expect(formatPercent(1, 4000)).toBe('0.025%');
    expect(formatPercent(1, 0)).toBe('');
    expect(formatInt(1024000)).toBe('1,024,000');
    expect(formatInt(-1234.4)).toBe('-1,234');
    expect(formatShape([])).toBe('scalar');
    expect(formatShape([3, 3, 16, 32])).toBe('3×3×16×32');
  });
});

describe('text from the script is shown, never obeyed', () => {
  it('escapes terminal control and bidi characters, and keeps newlines only where asked', () => {
    expect(displaySafe('dense\u001b[31mred')).toBe('dense\\x1b[31mred');
    expect(displaySafe('evil\u202egnp.ts')).toBe('evil\\u202egnp.ts');
    expect(displaySafe('a\u2066b\u2069c\u200fd')).toBe('a\\u2066b\\u2069c\\u200fd');
    expect(displaySafe('two\nlines')).toBe('two\\x0alines');
    expect(displaySafe('two\nlines\u0007', { keepNewlines: true })).toBe('two\nlines\\x07');
    expect(displaySafe('conv2d_Conv2D1/kernel · ×0.9998 — ‖w‖')).toBe('conv2d_Conv2D1/kernel · ×0.9998 — ‖w‖');
  });

  it('escapes every line break and rewind a name could use to print a line of its own: CR, NEL, LS/PS, DEL, all of C0 and C1', () => {
    expect(displaySafe('w\n  fake.js:1:1  error  FORGED')).toBe('w\\x0a  fake.js:1:1  error  FORGED');
    expect(displaySafe('a\r\u0085b\u2028c\u2029d\u007f')).toBe('a\\x0d\\x85b\\u2028c\\u2029d\\x7f');
    // Kept newlines are only \n: a CR or a separator still shows as an escape.
    expect(displaySafe('one\r\ntwo\u2028', { keepNewlines: true })).toBe('one\\x0d\ntwo\\u2028');
    for (let code = 0; code <= 0x9f; code++) {
      if (code >= 0x20 && code < 0x7f) continue;
      expect(displaySafe(`x${String.fromCharCode(code)}y`)).toMatch(/^x\\x[0-9a-f]{2}y$/);
    }
  });
});
