import type { PenaltyForm, PenaltyPiece } from '../../../shared/protocol/run-data';
import type { TapeTensor } from '../../tfjs-internals';
import { ADD, DIV, MUL, PASS, SUB, inputsOf, sizeOf, type FlaggedTape } from './tape-flags';

/**
 * The form and coefficient of a recognised hand-written penalty, read from the ops that compute it:
 * l2 c·Σw², l1 c·Σ|w|, norm c·‖w‖, over one or more variables, in tfjs's convention (no ½: l2Loss's ½ is in c).
 */
/** c·f(w) elementwise, f ∈ {w, w², |w|}. */
export function parseElementwise(tape: FlaggedTape, t: TapeTensor, depth = 0): Elementwise | null {
  if (depth > 50) return null;
  const w = tape.variableOf(t);
  if (w !== undefined) return { weight: w, fn: 'id', c: 1, explicit: false, size: sizeOf(t) };
  const n = tape.producer.get(t.id);
  if (!n) return null;
  const ins = inputsOf(n);
  const k = n.kernelName;
  const one = ins.length === 1 ? parseElementwise(tape, ins[0], depth + 1) : null;
  if (k === 'Square' && one?.fn === 'id') return { ...one, fn: 'sq', c: one.c * one.c };
  if (k === 'Abs' && one) return { ...one, fn: one.fn === 'id' ? 'abs' : one.fn, c: Math.abs(one.c) };
  if (k === 'Neg' && one) return { ...one, c: -one.c };
  if (PASS.has(k) && one) return one;
  if (k === 'Pow' && ins.length === 2) {
    const base = parseElementwise(tape, ins[0], depth + 1);
    const e = tape.constant(ins[1]);
    if (base && e === 2 && (base.fn === 'id' || base.fn === 'abs')) return { ...base, fn: 'sq', c: base.c * base.c };
    if (base && e === 1) return base;
    return null;
  }
  if (MUL.has(k) && ins.length === 2) {
    const [a, b] = ins;
    const ka = tape.constant(a);
    const kb = tape.constant(b);
    if (ka !== null) {
      const e = parseElementwise(tape, b, depth + 1);
      return e && { ...e, c: e.c * ka, explicit: true };
    }
    if (kb !== null) {
      const e = parseElementwise(tape, a, depth + 1);
      return e && { ...e, c: e.c * kb, explicit: true };
    }
    const ea = parseElementwise(tape, a, depth + 1);
    const eb = ea && parseElementwise(tape, b, depth + 1);
    if (ea && eb && ea.weight === eb.weight && ea.fn === 'id' && eb.fn === 'id') return { ...ea, fn: 'sq', c: ea.c * eb.c, explicit: ea.explicit || eb.explicit };
    return null;
  }
  if (DIV.has(k) && ins.length === 2) {
    const kb = tape.constant(ins[1]);
    const e = kb !== null && kb !== 0 ? parseElementwise(tape, ins[0], depth + 1) : null;
    return e && { ...e, c: e.c / kb!, explicit: true };
  }
  return null;
}

/** A scalar Σ of penalties: l2 c·Σw², l1 c·Σ|w|, norm c·‖w‖, over one or more variables. */
export function parseReduced(tape: FlaggedTape, t: TapeTensor, depth = 0): Reduced | null {
  if (depth > 200) return null;
  const n = tape.producer.get(t.id);
  if (!n) return null;
  const ins = inputsOf(n);
  const k = n.kernelName;
  const scaled = (r: Reduced | null, by: number, explicit: boolean): Reduced | null =>
    r && { items: r.items.map((i) => ({ ...i, c: i.c * by })), explicit: r.explicit || explicit };
  if ((k === 'Sum' || k === 'Mean') && ins.length === 1 && sizeOf(t) === 1) {
    const e = parseElementwise(tape, ins[0]);
    if (e && e.fn !== 'id') {
      const c = k === 'Mean' ? e.c / sizeOf(ins[0]) : e.c;
      return { items: [{ weight: e.weight, form: e.fn === 'sq' ? 'l2' : 'l1', c }], explicit: e.explicit };
    }
    // Σ over an already reduced penalty (a partial sum, or a reduction of a scalar).
    const inner = parseReduced(tape, ins[0], depth + 1);
    return k === 'Mean' ? scaled(inner, 1 / sizeOf(ins[0]), false) : inner;
  }
  if ((k === 'Sum' || k === 'Mean') && ins.length === 1) return null;
  if (k === 'Sqrt' && ins.length === 1) {
    const inner = parseReduced(tape, ins[0], depth + 1);
    if (!inner || inner.items.some((i) => i.form !== 'l2' || i.c < 0)) return null;
    const cs = [...new Set(inner.items.map((i) => i.c))];
    // c·‖w‖ = sqrt(c²·Σw²); a joint norm over several variables only has one coefficient if they share it.
    if (cs.length !== 1) return null;
    return { items: inner.items.map((i) => ({ ...i, form: 'norm', c: Math.sqrt(i.c) })), explicit: inner.explicit };
  }
  if (PASS.has(k) && ins.length === 1) return parseReduced(tape, ins[0], depth + 1);
  if (k === 'Neg' && ins.length === 1) return scaled(parseReduced(tape, ins[0], depth + 1), -1, true);
  if (MUL.has(k) && ins.length === 2) {
    const ka = tape.constant(ins[0]);
    const kb = ka === null ? tape.constant(ins[1]) : null;
    if (ka !== null) return scaled(parseReduced(tape, ins[1], depth + 1), ka, true);
    if (kb !== null) return scaled(parseReduced(tape, ins[0], depth + 1), kb, true);
    return null;
  }
  if (DIV.has(k) && ins.length === 2) {
    const kb = tape.constant(ins[1]);
    return kb !== null && kb !== 0 ? scaled(parseReduced(tape, ins[0], depth + 1), 1 / kb, true) : null;
  }
  if ((ADD.has(k) || SUB.has(k)) && ins.length >= 1) {
    const items: Reduced['items'] = [];
    let explicit = false;
    for (let i = 0; i < ins.length; i++) {
      // A constant summand (tfjs's own L1L2 starts from zeros([1])) does not change the gradient.
      if (tape.flagOf(ins[i]) === 0) continue;
      const r = parseReduced(tape, ins[i], depth + 1);
      if (!r) return null;
      const sign = SUB.has(k) && i === 1 ? -1 : 1;
      items.push(...r.items.map((x) => ({ ...x, c: x.c * sign })));
      explicit ||= r.explicit;
    }
    return items.length ? { items, explicit } : null;
  }
  return null;
}

export interface Elementwise {
  weight: string;
  fn: 'id' | 'sq' | 'abs';
  c: number;
  explicit: boolean;
  size: number;
}

export interface Reduced {
  items: Array<{ weight: string; form: Exclude<PenaltyForm, 'unknown'>; c: number }>;
  /** Some coefficient was written out (a tf.mul or tf.div by a constant), not only implied by a mean. */
  explicit: boolean;
}

/** One piece per (variable, form), coefficients summed and multiplied by what the term counts in the loss. */
export function piecesOf(parsed: Reduced | null, weights: string[], scale: number | null): PenaltyPiece[] {
  if (!parsed) return weights.map((weight) => ({ weight, form: 'unknown', coefficient: null }));
  const byKey = new Map<string, PenaltyPiece>();
  for (const item of parsed.items) {
    const key = `${item.weight}|${item.form}`;
    // float32 arithmetic: 0.002 comes back as 0.0020000000949949; seven digits are all it has.
    const c = scale === null ? null : Number((item.c * scale).toPrecision(7));
    const prev = byKey.get(key);
    if (prev) prev.coefficient = prev.coefficient === null || c === null ? null : prev.coefficient + c;
    else byKey.set(key, { weight: item.weight, form: item.form, coefficient: c });
  }
  // Variables the term reads but no recognised piece covers (a mask, a shift): their form is unknown.
  for (const w of weights) if (![...byKey.values()].some((p) => p.weight === w)) byKey.set(`${w}|unknown`, { weight: w, form: 'unknown', coefficient: null });
  return [...byKey.values()];
}
