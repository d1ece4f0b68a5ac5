import type { TapeNode, TapeTensor } from '../../tfjs-internals';

// Flags of a tensor, propagated forward over the tape: what it is computed from (a leaf: what it is).
/** A trainable variable. */
export const FROM_VARIABLE = 1;
/** Input data (a leaf that is no variable and holds more than one element). */
export const FROM_DATA = 2;
/** A layer penalty's output (tagged by the layer probe). */
export const FROM_LAYER_PENALTY = 4;

export const ADD = new Set(['Add', 'AddV2', 'AddN']);
export const SUB = new Set(['Sub']);
export const PASS = new Set(['Reshape', 'Identity', 'Cast', 'ExpandDims', 'Squeeze']);
export const MUL = new Set(['Multiply', 'Mul']);
export const DIV = new Set(['RealDiv', 'Div']);

/**
 * Ops that keep a value linear in the variables. A data-free summand made of these alone (a layer's reshaped
 * bias in a loss that is linear in the outputs, as a WGAN critic's is) shifts the loss without shrinking
 * anything: it is not a penalty.
 */
const LINEAR = new Set([...ADD, ...SUB, ...PASS, ...MUL, ...DIV, 'Neg', 'Sum', 'Mean', 'Tile', 'Transpose', 'Slice', 'StridedSlice', 'GatherV2', 'Concat', 'Pack', 'Unpack', 'BroadcastTo']);

export const sizeOf = (t: TapeTensor) => t.shape.reduce((a, b) => a * b, 1);

export function inputsOf(n: TapeNode): TapeTensor[] {
  const out: TapeTensor[] = [];
  for (const k in n.inputs) if (n.inputs[k]) out.push(n.inputs[k]);
  return out;
}

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

export interface FlagSources {
  /** The weight id of a trainable variable, else null. */
  variableOf(t: TapeTensor): string | null;
  /** Output tensors of the layer penalties (tagged by the layer probe). */
  tagged: ReadonlySet<number>;
  /** The value of a scalar constant (a leaf), or null when it cannot be read. */
  constantValue(t: TapeTensor): number | null;
}

/**
 * One step's tape without tfjs's saved-tensor clones, indexed (producer, consumers) and flagged forward: a leaf
 * is data when it is not a variable and holds more than one element; scalar leaves (the `0.01` in
 * `tf.mul(0.01, …)`) are constants. Leaves are classified the first time they are read.
 */
export class FlaggedTape {
  readonly nodes: readonly TapeNode[];
  readonly producer = new Map<number, TapeNode>();
  readonly consumers = new Map<number, TapeNode[]>();
  private readonly flags = new Map<number, number>();
  private readonly variables = new Map<number, string>();
  private readonly cloneOf: Map<number, TapeTensor>;

  constructor(
    tape: readonly TapeNode[],
    private readonly sources: FlagSources,
  ) {
    const { nodes: clones, cloneOf } = cloneNodes(tape);
    this.cloneOf = cloneOf;
    this.nodes = clones.size ? tape.filter((n) => !clones.has(n.id)) : tape;
    for (const n of this.nodes) {
      for (const o of n.outputs) this.producer.set(o.id, n);
      for (const t of inputsOf(n)) {
        const list = this.consumers.get(t.id);
        if (list) list.push(n);
        else this.consumers.set(t.id, [n]);
      }
    }
    for (const n of this.nodes) {
      let f = 0;
      for (const t of inputsOf(n)) f |= this.flagOf(t);
      for (const o of n.outputs) this.flags.set(o.id, f | (sources.tagged.has(o.id) ? FROM_LAYER_PENALTY : 0));
    }
  }

  flagOf(t: TapeTensor): number {
    const known = this.flags.get(t.id);
    if (known !== undefined) return known;
    let f = 0;
    if (!this.producer.has(t.id)) {
      const w = this.sources.variableOf(t);
      if (w !== null) {
        this.variables.set(t.id, w);
        f = FROM_VARIABLE;
      } else if (sizeOf(t) > 1) f = FROM_DATA;
    }
    if (this.sources.tagged.has(t.id)) f |= FROM_LAYER_PENALTY;
    this.flags.set(t.id, f);
    return f;
  }

  /** The weight id a leaf tensor reads, if it is a trainable variable. */
  variableOf(t: TapeTensor): string | undefined {
    this.flagOf(t);
    return this.variables.get(t.id);
  }

  /** A scalar of constants only (a leaf, or tf.norm's cast of its exponent 2), or null. */
  constant(t: TapeTensor): number | null {
    if (this.flagOf(t) !== 0 || sizeOf(t) !== 1) return null;
    const clone = this.cloneOf.get(t.id);
    return (clone ? this.sources.constantValue(clone) : null) ?? this.sources.constantValue(t);
  }

  isDataFree(t: TapeTensor): boolean {
    const f = this.flagOf(t);
    return (f & FROM_VARIABLE) !== 0 && (f & FROM_DATA) === 0;
  }

  /** Tensor ids that are ancestors of (or are) the targets on this tape. */
  ancestorsOf(targets: Iterable<number>): Set<number> {
    const lead = new Set<number>(targets);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      if (node.outputs.some((o) => lead.has(o.id))) for (const t of inputsOf(node)) lead.add(t.id);
    }
    return lead;
  }

  /** True when every op that computes `t` keeps it linear in the variables (see LINEAR). */
  linearOnly(t: TapeTensor): boolean {
    const stack = [t.id];
    const seen = new Set<number>();
    while (stack.length) {
      const n = this.producer.get(stack.pop()!);
      if (!n || seen.has(n.id)) continue;
      seen.add(n.id);
      if (!LINEAR.has(n.kernelName)) return false;
      const ins = inputsOf(n);
      // w·w is quadratic: a product is linear only when one side is constant.
      if ((MUL.has(n.kernelName) || DIV.has(n.kernelName)) && !ins.some((x) => this.flagOf(x) === 0)) return false;
      for (const x of ins) stack.push(x.id);
    }
    return true;
  }

  /** The variables `t` is computed from, in the order the tape first reads them. */
  coveredVariables(t: TapeTensor): Array<{ weight: string; tensor: TapeTensor }> {
    const seenNodes = new Set<number>();
    const stack = [t.id];
    const inSubtree: TapeNode[] = [];
    while (stack.length) {
      const n = this.producer.get(stack.pop()!);
      if (!n || seenNodes.has(n.id)) continue;
      seenNodes.add(n.id);
      inSubtree.push(n);
      for (const x of inputsOf(n)) stack.push(x.id);
    }
    inSubtree.sort((a, b) => a.id - b.id);
    const out: Array<{ weight: string; tensor: TapeTensor }> = [];
    for (const n of inSubtree) {
      for (const x of inputsOf(n)) {
        const w = this.variableOf(x);
        if (w !== undefined && !out.some((o) => o.weight === w)) out.push({ weight: w, tensor: x });
      }
    }
    return out;
  }
}
