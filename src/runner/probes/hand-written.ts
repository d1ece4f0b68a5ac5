import type { PenaltyForm, PenaltyPiece } from '../../shared/protocol/run-data';
import type { TapeNode, TapeTensor } from '../tfjs-internals';

/**
 * Recognises hand-written penalties on one step's gradient tape: terms of the loss that depend on trainable
 * variables and on no input data. Pure (tensor ids and shapes; values through callbacks), so it is unit-tested
 * on tapes tfjs records.
 *
 * Every tensor gets two flags, propagated forward over the tape: V (depends on a trainable variable) and
 * D (depends on data). A leaf is data when it is not a variable and holds more than one element; scalar
 * leaves (the `0.01` in `tf.mul(0.01, …)`) are constants. A term is a maximal V-and-not-D tensor:
 * - in the loss: a summand of the minimized scalar, found by walking down from it through sums, scalar
 *   scalings, reshapes and reductions (so its contribution is `scale · Σ term`);
 * - dropped: one that is not an ancestor of the minimized scalar, kept only when it is summed with a
 *   data-dependent tensor somewhere (a `totalLoss` that is never returned) or is built like a penalty
 *   (an explicit coefficient, or a sum of penalties on several variables). A logged `tf.norm(w)` is neither.
 * Layer penalties (the layer probe's tagged tensors) are known terms: they and their sub-graphs are skipped.
 */

export interface RecognitionInput {
  tape: readonly TapeNode[];
  yTensorId: number;
  /** The weight id of a trainable variable, else null. */
  variableOf(t: TapeTensor): string | null;
  /** Output tensors of the layer penalties (tagged by the layer probe). */
  tagged: ReadonlySet<number>;
  /** The value of a scalar constant (a leaf), or null when it cannot be read. */
  constantValue(t: TapeTensor): number | null;
  /** Read the forms and coefficients too (the captured step); other steps only need ids and membership. */
  parseForms: boolean;
}

export interface RecognizedTerm {
  tensor: TapeTensor;
  /** The tape node that produced the term. */
  nodeId: number;
  /** Weight ids the term covers, in the order the tape first reads them, and their variables' tensors. */
  weights: string[];
  weightTensors: TapeTensor[];
  inLoss: boolean;
  /** What each element of the term counts in the minimized scalar (1 for a dropped term); null if unknown. */
  scale: number | null;
  /** Per variable: form and coefficient, already multiplied by `scale`; only when forms are parsed. */
  pieces: PenaltyPiece[] | null;
  /** A dropped term summed with the data loss: the tape node of that sum. */
  summedAtNodeId: number | null;
}

export interface Recognition {
  terms: RecognizedTerm[];
  /** Layer penalties that do not reach the minimized scalar but are summed with data: tensor id → sum node. */
  taggedSummedAt: Map<number, number>;
  /** Layer penalties in the minimized scalar: tensor id → what each element counts there (null if unknown). */
  taggedScale: Map<number, number | null>;
  /** The minimized scalar's own tape node, when it has one. */
  yNodeId: number | null;
}

const V = 1;
const D = 2;
/** Downstream of a layer penalty. */
const T = 4;

const ADD = new Set(['Add', 'AddV2', 'AddN']);
const SUB = new Set(['Sub']);
const PASS = new Set(['Reshape', 'Identity', 'Cast', 'ExpandDims', 'Squeeze']);
const MUL = new Set(['Multiply', 'Mul']);
const DIV = new Set(['RealDiv', 'Div']);

/**
 * Ops that keep a value linear in the variables. A data-free summand made of these alone (a layer's reshaped
 * bias in a loss that is linear in the outputs, as a WGAN critic's is) shifts the loss without shrinking
 * anything: it is not a penalty.
 */
const LINEAR = new Set([...ADD, ...SUB, ...PASS, ...MUL, ...DIV, 'Neg', 'Sum', 'Mean', 'Tile', 'Transpose', 'Slice', 'StridedSlice', 'GatherV2', 'Concat', 'Pack', 'Unpack', 'BroadcastTo']);

const sizeOf = (t: TapeTensor) => t.shape.reduce((a, b) => a * b, 1);

/**
 * Clones tfjs makes of tensors it saves for the backward pass: tape nodes whose outputs are all someone's
 * `saved`. They are not ops of the user's, but they keep alive a constant the op itself has already disposed
 * (the scalar `tf.mul(x, 0.5)` made of 0.5): `cloneOf` maps the original tensor to its clone.
 */
function cloneNodes(tape: readonly TapeNode[]): { nodes: Set<number>; cloneOf: Map<number, TapeTensor> } {
  const saved = new Set<number>();
  for (const n of tape) for (const s of n.saved ?? []) saved.add(s.id);
  const nodes = new Set<number>();
  const cloneOf = new Map<number, TapeTensor>();
  if (saved.size === 0) return { nodes, cloneOf };
  for (const n of tape) {
    if (n.outputs.length === 0 || !n.outputs.every((o) => saved.has(o.id))) continue;
    nodes.add(n.id);
    const x = n.inputs.x;
    if (x && n.outputs.length === 1 && !cloneOf.has(x.id)) cloneOf.set(x.id, n.outputs[0]);
  }
  return { nodes, cloneOf };
}

function inputsOf(n: TapeNode): TapeTensor[] {
  const out: TapeTensor[] = [];
  for (const k in n.inputs) if (n.inputs[k]) out.push(n.inputs[k]);
  return out;
}

export function recognizeHandWritten(input: RecognitionInput): Recognition {
  const { yTensorId, tagged } = input;
  const { nodes: clones, cloneOf } = cloneNodes(input.tape);
  const nodes = clones.size ? input.tape.filter((n) => !clones.has(n.id)) : input.tape;
  const producer = new Map<number, TapeNode>();
  const consumers = new Map<number, TapeNode[]>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o.id, n);
    for (const t of inputsOf(n)) {
      const list = consumers.get(t.id);
      if (list) list.push(n);
      else consumers.set(t.id, [n]);
    }
  }

  // Forward flags. Leaves are classified the first time they are read.
  const flags = new Map<number, number>();
  const variables = new Map<number, string>();
  const flagOf = (t: TapeTensor): number => {
    const known = flags.get(t.id);
    if (known !== undefined) return known;
    let f = 0;
    if (!producer.has(t.id)) {
      const w = input.variableOf(t);
      if (w !== null) {
        variables.set(t.id, w);
        f = V;
      } else if (sizeOf(t) > 1) f = D;
    }
    if (tagged.has(t.id)) f |= T;
    flags.set(t.id, f);
    return f;
  };
  for (const n of nodes) {
    let f = 0;
    for (const t of inputsOf(n)) f |= flagOf(t);
    for (const o of n.outputs) flags.set(o.id, f | (tagged.has(o.id) ? T : 0));
  }

  const yNode = producer.get(yTensorId) ?? null;
  const result: Recognition = { terms: [], taggedSummedAt: new Map(), taggedScale: new Map(), yNodeId: yNode?.id ?? null };
  const yFlags = flags.get(yTensorId) ?? 0;
  // A loss with no data in it (fitting a function of the variables alone) has no data term to regularize.
  if (!yNode || !(yFlags & D)) return result;

  const constant = (t: TapeTensor): number | null => {
    // A scalar of constants only (a leaf, or tf.norm's cast of its exponent 2).
    if (flagOf(t) !== 0 || sizeOf(t) !== 1) return null;
    const clone = cloneOf.get(t.id);
    return (clone ? input.constantValue(clone) : null) ?? input.constantValue(t);
  };
  const isDataFree = (t: TapeTensor) => {
    const f = flagOf(t);
    return (f & V) !== 0 && (f & D) === 0;
  };

  const found = new Map<number, { tensor: TapeTensor; scale: number | null; inLoss: boolean; summedAt: number | null }>();

  // In the loss: walk the additive structure of the minimized scalar. `s` is what one element of `t` counts.
  const visit = (t: TapeTensor, s: number | null, depth: number): void => {
    if (depth > 200) return;
    if (tagged.has(t.id)) {
      if (!result.taggedScale.has(t.id)) result.taggedScale.set(t.id, s);
      return;
    }
    const f = flagOf(t);
    if (!(f & V)) return;
    if (!(f & D) && !(f & T)) {
      if (producer.has(t.id) && !found.has(t.id) && !linearOnly(t)) found.set(t.id, { tensor: t, scale: s, inLoss: true, summedAt: null });
      return;
    }
    const n = producer.get(t.id);
    if (!n) return;
    const ins = inputsOf(n);
    const out = sizeOf(t);
    const spread = (x: TapeTensor, k: number | null) => (s === null || k === null ? null : (s * k * out) / sizeOf(x));
    const k = n.kernelName;
    if (ADD.has(k)) for (const x of ins) visit(x, spread(x, 1), depth + 1);
    else if (SUB.has(k) && ins.length === 2) {
      visit(ins[0], spread(ins[0], 1), depth + 1);
      visit(ins[1], spread(ins[1], -1), depth + 1);
    } else if (k === 'Neg' && ins.length === 1) visit(ins[0], s === null ? null : -s, depth + 1);
    else if (PASS.has(k) && ins.length === 1) visit(ins[0], s, depth + 1);
    else if (k === 'Sum' && ins.length === 1) visit(ins[0], s, depth + 1);
    else if (k === 'Mean' && ins.length === 1) visit(ins[0], spread(ins[0], 1), depth + 1);
    else if (MUL.has(k) && ins.length === 2) {
      const [a, b] = ins;
      const ka = constant(a);
      const kb = ka === null ? constant(b) : null;
      if (ka !== null) visit(b, spread(b, ka), depth + 1);
      else if (kb !== null) visit(a, spread(a, kb), depth + 1);
    } else if (DIV.has(k) && ins.length === 2) {
      const kb = constant(ins[1]);
      if (kb !== null && kb !== 0) visit(ins[0], spread(ins[0], 1 / kb), depth + 1);
    }
  };
  visit({ id: yTensorId, shape: yNode.outputs.find((o) => o.id === yTensorId)?.shape ?? [] }, 1, 0);

  // Dropped: maximal data-free tensors that never reach the minimized scalar.
  const toY = ancestorsOf(nodes, [yTensorId]);
  // The inside of a layer penalty (tfjs's L1L2.apply) is the layer probe's term, not a hand-written one.
  const toTagged = tagged.size ? ancestorsOf(nodes, tagged) : new Set<number>();
  const isAdditive = (n: TapeNode) => ADD.has(n.kernelName) || SUB.has(n.kernelName);
  const firstDataSum = (t: TapeTensor): number | null => {
    const queue = [t];
    const seen = new Set<number>([t.id]);
    for (let i = 0; i < queue.length && i < 64; i++) {
      for (const c of consumers.get(queue[i].id) ?? []) {
        const passes = isAdditive(c) || PASS.has(c.kernelName) || (MUL.has(c.kernelName) && inputsOf(c).some((x) => constant(x) !== null));
        if (!passes) continue;
        for (const o of c.outputs) {
          if (seen.has(o.id)) continue;
          seen.add(o.id);
          const f = flagOf(o);
          if (isAdditive(c) && f & D) return c.id;
          if (!(f & D)) queue.push(o);
        }
      }
    }
    return null;
  };
  for (const n of nodes) {
    for (const o of n.outputs) {
      if (toY.has(o.id) || toTagged.has(o.id) || found.has(o.id) || !isDataFree(o) || flagOf(o) & T) continue;
      // Not maximal: some op goes on computing a (non-penalty-tagged) data-free value from it.
      const continues = (consumers.get(o.id) ?? []).some((c) => c.outputs.some((x) => isDataFree(x) && !(flagOf(x) & T)));
      if (continues) continue;
      if (linearOnly(o)) continue;
      const summedAt = firstDataSum(o);
      if (summedAt === null && !builtLikePenalty(o)) continue;
      found.set(o.id, { tensor: o, scale: 1, inLoss: false, summedAt });
    }
  }
  for (const id of tagged) {
    if (toY.has(id)) continue;
    const at = firstDataSum({ id, shape: [] });
    if (at !== null) result.taggedSummedAt.set(id, at);
  }

  for (const f of [...found.values()].sort((a, b) => producer.get(a.tensor.id)!.id - producer.get(b.tensor.id)!.id)) {
    const node = producer.get(f.tensor.id)!;
    const parsed = input.parseForms ? parseReduced(f.tensor) : null;
    const covered = coveredVariables(f.tensor);
    result.terms.push({
      tensor: f.tensor,
      nodeId: node.id,
      weights: covered.map((c) => c.weight),
      weightTensors: covered.map((c) => c.tensor),
      inLoss: f.inLoss,
      scale: f.scale,
      pieces: input.parseForms ? piecesOf(parsed, covered.map((c) => c.weight), f.scale) : null,
      summedAtNodeId: f.summedAt,
    });
  }
  return result;

  /** True when every op that computes `t` keeps it linear in the variables (see LINEAR). */
  function linearOnly(t: TapeTensor): boolean {
    const stack = [t.id];
    const seen = new Set<number>();
    while (stack.length) {
      const n = producer.get(stack.pop()!);
      if (!n || seen.has(n.id)) continue;
      seen.add(n.id);
      if (!LINEAR.has(n.kernelName)) return false;
      const ins = inputsOf(n);
      // w·w is quadratic: a product is linear only when one side is constant.
      if ((MUL.has(n.kernelName) || DIV.has(n.kernelName)) && !ins.some((x) => flagOf(x) === 0)) return false;
      for (const x of ins) stack.push(x.id);
    }
    return true;
  }

  function builtLikePenalty(t: TapeTensor): boolean {
    const parsed = parseReduced(t);
    if (!parsed) return false;
    return parsed.explicit || new Set(parsed.items.map((i) => i.weight)).size > 1;
  }

  function coveredVariables(t: TapeTensor): Array<{ weight: string; tensor: TapeTensor }> {
    const seenNodes = new Set<number>();
    const stack = [t.id];
    const inSubtree: TapeNode[] = [];
    while (stack.length) {
      const n = producer.get(stack.pop()!);
      if (!n || seenNodes.has(n.id)) continue;
      seenNodes.add(n.id);
      inSubtree.push(n);
      for (const x of inputsOf(n)) stack.push(x.id);
    }
    inSubtree.sort((a, b) => a.id - b.id);
    const out: Array<{ weight: string; tensor: TapeTensor }> = [];
    for (const n of inSubtree) {
      for (const x of inputsOf(n)) {
        flagOf(x);
        const w = variables.get(x.id);
        if (w !== undefined && !out.some((o) => o.weight === w)) out.push({ weight: w, tensor: x });
      }
    }
    return out;
  }

  // ---- forms ------------------------------------------------------------------------------------

  /** c·f(w) elementwise, f ∈ {w, w², |w|}. */
  function parseElementwise(t: TapeTensor, depth = 0): Elementwise | null {
    if (depth > 50) return null;
    flagOf(t);
    const w = variables.get(t.id);
    if (w !== undefined) return { weight: w, fn: 'id', c: 1, explicit: false, size: sizeOf(t) };
    const n = producer.get(t.id);
    if (!n) return null;
    const ins = inputsOf(n);
    const k = n.kernelName;
    const one = ins.length === 1 ? parseElementwise(ins[0], depth + 1) : null;
    if (k === 'Square' && one?.fn === 'id') return { ...one, fn: 'sq', c: one.c * one.c };
    if (k === 'Abs' && one) return { ...one, fn: one.fn === 'id' ? 'abs' : one.fn, c: Math.abs(one.c) };
    if (k === 'Neg' && one) return { ...one, c: -one.c };
    if (PASS.has(k) && one) return one;
    if (k === 'Pow' && ins.length === 2) {
      const base = parseElementwise(ins[0], depth + 1);
      const e = constant(ins[1]);
      if (base && e === 2 && (base.fn === 'id' || base.fn === 'abs')) return { ...base, fn: 'sq', c: base.c * base.c };
      if (base && e === 1) return base;
      return null;
    }
    if (MUL.has(k) && ins.length === 2) {
      const [a, b] = ins;
      const ka = constant(a);
      const kb = constant(b);
      if (ka !== null) {
        const e = parseElementwise(b, depth + 1);
        return e && { ...e, c: e.c * ka, explicit: true };
      }
      if (kb !== null) {
        const e = parseElementwise(a, depth + 1);
        return e && { ...e, c: e.c * kb, explicit: true };
      }
      const ea = parseElementwise(a, depth + 1);
      const eb = ea && parseElementwise(b, depth + 1);
      if (ea && eb && ea.weight === eb.weight && ea.fn === 'id' && eb.fn === 'id') return { ...ea, fn: 'sq', c: ea.c * eb.c, explicit: ea.explicit || eb.explicit };
      return null;
    }
    if (DIV.has(k) && ins.length === 2) {
      const kb = constant(ins[1]);
      const e = kb !== null && kb !== 0 ? parseElementwise(ins[0], depth + 1) : null;
      return e && { ...e, c: e.c / kb!, explicit: true };
    }
    return null;
  }

  /** A scalar Σ of penalties: l2 c·Σw², l1 c·Σ|w|, norm c·‖w‖, over one or more variables. */
  function parseReduced(t: TapeTensor, depth = 0): Reduced | null {
    if (depth > 200) return null;
    const n = producer.get(t.id);
    if (!n) return null;
    const ins = inputsOf(n);
    const k = n.kernelName;
    const scaled = (r: Reduced | null, by: number, explicit: boolean): Reduced | null =>
      r && { items: r.items.map((i) => ({ ...i, c: i.c * by })), explicit: r.explicit || explicit };
    if ((k === 'Sum' || k === 'Mean') && ins.length === 1 && sizeOf(t) === 1) {
      const e = parseElementwise(ins[0]);
      if (e && e.fn !== 'id') {
        const c = k === 'Mean' ? e.c / sizeOf(ins[0]) : e.c;
        return { items: [{ weight: e.weight, form: e.fn === 'sq' ? 'l2' : 'l1', c }], explicit: e.explicit };
      }
      // Σ over an already reduced penalty (a partial sum, or a reduction of a scalar).
      const inner = parseReduced(ins[0], depth + 1);
      return k === 'Mean' ? scaled(inner, 1 / sizeOf(ins[0]), false) : inner;
    }
    if ((k === 'Sum' || k === 'Mean') && ins.length === 1) return null;
    if (k === 'Sqrt' && ins.length === 1) {
      const inner = parseReduced(ins[0], depth + 1);
      if (!inner || inner.items.some((i) => i.form !== 'l2' || i.c < 0)) return null;
      const cs = [...new Set(inner.items.map((i) => i.c))];
      // c·‖w‖ = sqrt(c²·Σw²); a joint norm over several variables only has one coefficient if they share it.
      if (cs.length !== 1) return null;
      return { items: inner.items.map((i) => ({ ...i, form: 'norm', c: Math.sqrt(i.c) })), explicit: inner.explicit };
    }
    if (PASS.has(k) && ins.length === 1) return parseReduced(ins[0], depth + 1);
    if (k === 'Neg' && ins.length === 1) return scaled(parseReduced(ins[0], depth + 1), -1, true);
    if (MUL.has(k) && ins.length === 2) {
      const ka = constant(ins[0]);
      const kb = ka === null ? constant(ins[1]) : null;
      if (ka !== null) return scaled(parseReduced(ins[1], depth + 1), ka, true);
      if (kb !== null) return scaled(parseReduced(ins[0], depth + 1), kb, true);
      return null;
    }
    if (DIV.has(k) && ins.length === 2) {
      const kb = constant(ins[1]);
      return kb !== null && kb !== 0 ? scaled(parseReduced(ins[0], depth + 1), 1 / kb, true) : null;
    }
    if ((ADD.has(k) || SUB.has(k)) && ins.length >= 1) {
      const items: Reduced['items'] = [];
      let explicit = false;
      for (let i = 0; i < ins.length; i++) {
        // A constant summand (tfjs's own L1L2 starts from zeros([1])) does not change the gradient.
        if (flagOf(ins[i]) === 0) continue;
        const r = parseReduced(ins[i], depth + 1);
        if (!r) return null;
        const sign = SUB.has(k) && i === 1 ? -1 : 1;
        items.push(...r.items.map((x) => ({ ...x, c: x.c * sign })));
        explicit ||= r.explicit;
      }
      return items.length ? { items, explicit } : null;
    }
    return null;
  }
}

interface Elementwise {
  weight: string;
  fn: 'id' | 'sq' | 'abs';
  c: number;
  explicit: boolean;
  size: number;
}

interface Reduced {
  items: Array<{ weight: string; form: Exclude<PenaltyForm, 'unknown'>; c: number }>;
  /** Some coefficient was written out (a tf.mul or tf.div by a constant), not only implied by a mean. */
  explicit: boolean;
}

/** One piece per (variable, form), coefficients summed and multiplied by what the term counts in the loss. */
function piecesOf(parsed: Reduced | null, weights: string[], scale: number | null): PenaltyPiece[] {
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

/** Tensor ids that are ancestors of (or are) the targets on this tape. */
function ancestorsOf(nodes: readonly TapeNode[], targets: Iterable<number>): Set<number> {
  const lead = new Set<number>(targets);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (node.outputs.some((o) => lead.has(o.id))) for (const t of inputsOf(node)) lead.add(t.id);
  }
  return lead;
}
