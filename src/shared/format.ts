/**
 * Every number and shape Loss Lens prints goes through here, so the CLI, the hover, the panel and the
 * status bar say the same value the same way.
 */

/** Mantissa and exponent, with the mantissa's trailing zeros dropped: 1.5e-4, 2e3. */
function exponential(x: number, significant: number): string {
  const [mantissa, exponent] = x.toExponential(Math.max(0, significant - 1)).split('e');
  return `${String(Number(mantissa))}e${Number(exponent)}`;
}

/**
 * A measured value (a loss, a norm, a penalty): `significant` digits, plainly between 1e-3 and 1e5,
 * else as mantissa·exponent. Non-finite values are named, as the JSON report names them.
 */
export function formatNumber(x: number | null | undefined, significant = 4): string {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? String(Number(x.toPrecision(significant))) : exponential(x, Math.min(significant, 3));
}

/**
 * A configured coefficient or hyper-parameter (an L2 strength, a learning rate), as people write them:
 * 1e-3 and 5e-4 rather than 0.001 and 0.0005; plain between 0.01 and 10,000.
 */
export function formatCoefficient(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const rounded = Number(x.toPrecision(3));
  const a = Math.abs(rounded);
  return a >= 1e-2 && a < 1e4 ? String(rounded) : exponential(rounded, 3);
}

/**
 * A per-step multiplier close to 1 (a decay factor): enough digits that 1 − 2e-4 does not read as 1, and a factor
 * that six digits would round to 1 (0.9999998) as what it takes away: `1 − 2e-7`, never a bare 1.
 */
export function formatFactor(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const rounded = Number(x.toPrecision(6));
  if (rounded !== 1 || x === 1) return String(rounded);
  return x < 1 ? `1 − ${formatNumber(1 - x, 2)}` : `1 + ${formatNumber(x - 1, 2)}`;
}

/** A part of a whole, as a percentage; tiny shares keep three decimals so they do not read as 0. */
export function formatPercent(part: number, whole: number): string {
  if (!Number.isFinite(part) || !Number.isFinite(whole) || whole === 0) return '';
  const share = part / whole;
  return `${(100 * share).toFixed(Math.abs(share) < 0.001 ? 3 : 1)}%`;
}

/** A count, with thousands separators: 1,024,000. */
export function formatInt(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A tensor shape: 3×3×16×32, or "scalar". */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : shape.join('×');
}

// C0 and C1 control characters and DEL (a terminal acts on ESC sequences; CR and NEL rewind or break a line),
// the line and paragraph separators (U+2028/U+2029: a line break to editors and some viewers), and the bidi
// controls that make a name or a path display as something else (U+202A–U+202E, U+2066–U+2069, LRM/RLM/ALM).
// A newline is a control too: one in a layer name would print a line that passes for one of the report's own.
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROLS_AND_NEWLINES = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string) => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/**
 * Text from the user's script (layer names, messages, paths) as it may be shown: control and bidi
 * characters become visible escapes (`\x0a`, `\x1b`, `\u202e`), so nothing the script names can drive a
 * terminal, reorder what a reader sees, or start a line of its own. Newlines (`\n` only) are kept where asked,
 * for a view that shows a multi-line message as such and cannot be forged by a line (a DOM node, a JSON string).
 */
export function displaySafe(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines ? CONTROLS : CONTROLS_AND_NEWLINES, escapeChar);
}
