import type { GraphEdge, GraphNode, LossGraph, NamedSite, PenaltyPiece, RegularizerInfo, TermInfo } from '../../../shared/protocol/run-data';
import { DATA_TERM_ID } from '../../../shared/protocol/term-ids';
import type { TapeNode } from '../../tfjs-internals';

/** Everything a term needs to be placed in the graph, evaluated or not. */
export interface TermSpec {
  termId: string;
  kind: 'weight-penalty' | 'activity-penalty' | 'hand-written';
  layer: string | null;
  weight: string | null;
  regularizer: RegularizerInfo | null;
  /** The penalty's output tensor, when the step computed it. */
  tensorId: number | null;
  /** The penalized variable's tensor id and shape, when known. */
  weightTensorId: number | null;
  weightShape: number[];
  /** Hand-written terms: the variables' tensor ids, their pieces and where the code built the term. */
  coveredTensorIds?: number[];
  pieces?: PenaltyPiece[];
  source?: NamedSite | null;
  /** A penalty that does not reach the minimized scalar but is summed with data there. */
  summedAt?: NamedSite | null;
}

export interface TapeGraphInput {
  objective: number;
  step: number;
  tape: readonly TapeNode[];
  /** The variables being differentiated, with their weight ids. */
  xs: ReadonlyArray<{ tensorId: number; weightId: string }>;
  yTensorId: number;
  terms: readonly TermSpec[];
  /** Tape node id → innermost layer whose apply() ran it. */
  opOwner: ReadonlyMap<number, string>;
  /** Variable tensor id → weight and layer (null for a raw tf.variable), for every variable known. */
  weights: ReadonlyMap<number, { weightId: string; layer: string | null }>;
  source: LossGraph['source'];
  minimizedSource?: LossGraph['minimizedSource'];
  rawVariables?: LossGraph['rawVariables'];
}

/** Tensor ids that are ancestors of (or are) the targets on this tape. */
export function ancestorTensors(tape: readonly TapeNode[], targets: Iterable<number>): Set<number> {
  const lead = new Set<number>(targets);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => lead.has(o.id))) {
      for (const name in node.inputs) lead.add(node.inputs[name].id);
    }
  }
  return lead;
}

const opId = (n: TapeNode) => `op:${n.id}`;
const varId = (weightId: string) => `var:${weightId}`;

/**
 * Forward over the tape from `tensors`, which grows in place with every tensor computed from them: the ids of
 * the nodes that read one of them.
 */
function spreadForward(tape: readonly TapeNode[], tensors: Set<number>): Set<number> {
  const nodes = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (tensors.has(node.inputs[name].id)) {
        nodes.add(node.id);
        for (const o of node.outputs) tensors.add(o.id);
        break;
      }
    }
  }
  return nodes;
}

/** Which ops of the tape the graph shows, and how each relates to the minimized scalar and to the penalties. */
interface TapeReach {
  /** Tensors with a path to the minimized scalar, and to some penalty's output. */
  toY: Set<number>;
  toPenalty: Set<number>;
  /** Tensors downstream of a penalty's output, and the ops that read one: where penalties are summed into the loss. */
  afterPenalty: Set<number>;
  mixedNodes: Set<number>;
  /** The ops computed from a variable that lead to the minimized scalar or to a penalty, in tape order. */
  included: TapeNode[];
  /** Output tensor id → the included op that computed it. */
  producer: Map<number, TapeNode>;
}

function reachOf(input: TapeGraphInput): TapeReach {
  const { tape, xs, yTensorId, terms } = input;
  // Forward: which tensors are functions of the variables (or of a penalized weight).
  const fromX = new Set<number>(xs.map((x) => x.tensorId));
  for (const t of terms) {
    if (t.weightTensorId !== null) fromX.add(t.weightTensorId);
    for (const id of t.coveredTensorIds ?? []) fromX.add(id);
  }
  const nodeFromX = spreadForward(tape, fromX);
  const penaltyTensors = terms.filter((t) => t.tensorId !== null).map((t) => t.tensorId as number);
  const toY = ancestorTensors(tape, [yTensorId]);
  const toPenalty = ancestorTensors(tape, penaltyTensors);
  const afterPenalty = new Set<number>(penaltyTensors);
  const mixedNodes = spreadForward(tape, afterPenalty);
  const producer = new Map<number, TapeNode>();
  const included: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id)) continue;
    if (!node.outputs.some((o) => toY.has(o.id) || toPenalty.has(o.id))) continue;
    included.push(node);
    for (const o of node.outputs) producer.set(o.id, node);
  }
  return { toY, toPenalty, afterPenalty, mixedNodes, included, producer };
}

/**
 * Which penalty each op computes (walking back from each penalty's output), so a penalty's ops sit with its layer
 * even though calculateLosses runs outside apply().
 */
function penaltyOwners(tape: readonly TapeNode[], termByTensor: ReadonlyMap<number, TermSpec>): Map<number, TermSpec> {
  const owners = new Map<number, TermSpec>();
  const tensorOwner = new Map<number, TermSpec>(termByTensor);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    const owner = node.outputs.map((o) => tensorOwner.get(o.id)).find((t) => t !== undefined);
    if (!owner) continue;
    owners.set(node.id, owner);
    for (const name in node.inputs) if (!tensorOwner.has(node.inputs[name].id)) tensorOwner.set(node.inputs[name].id, owner);
  }
  return owners;
}

/** The graph's nodes and edges as they are added: ops, the variables they read (each once), terms and the sink. */
class GraphParts {
  readonly nodes: GraphNode[] = [];
  readonly edges: GraphEdge[] = [];
  private readonly varNodes = new Map<string, GraphNode>();
  private readonly xWeight: Map<number, string>;
  private readonly termByTensor = new Map<number, TermSpec>();
  private readonly penaltyOwner: Map<number, TermSpec>;

  constructor(
    private readonly input: TapeGraphInput,
    private readonly reach: TapeReach,
  ) {
    this.xWeight = new Map(input.xs.map((x) => [x.tensorId, x.weightId]));
    for (const t of input.terms) if (t.tensorId !== null) this.termByTensor.set(t.tensorId, t);
    this.penaltyOwner = penaltyOwners(input.tape, this.termByTensor);
  }

  /** The variable node a tensor reads (added the first time), or null when the tensor is no known variable. */
  private ensureVar(tensorId: number, shape: number[]): string | null {
    const weightId = this.xWeight.get(tensorId) ?? this.input.weights.get(tensorId)?.weightId;
    if (weightId === undefined) return null;
    const id = varId(weightId);
    if (!this.varNodes.has(id)) {
      const node: GraphNode = {
        id,
        kind: 'variable',
        label: weightId.split('/').pop() ?? weightId,
        layer: this.input.weights.get(tensorId)?.layer ?? null,
        shape: [...shape],
        role: 'data',
        termId: null,
        weight: weightId,
        reachesMinimizedLoss: this.reach.toY.has(tensorId),
      };
      this.varNodes.set(id, node);
      this.nodes.push(node);
    }
    return id;
  }

  /** An included op, then an edge from each of its inputs' producers (or variables). */
  addOp(node: TapeNode): void {
    const { toY, toPenalty, mixedNodes, producer } = this.reach;
    const out = node.outputs[0];
    const term = node.outputs.map((o) => this.termByTensor.get(o.id)).find((t) => t !== undefined);
    const role: GraphNode['role'] = mixedNodes.has(node.id) ? 'mixed' : node.outputs.some((o) => toPenalty.has(o.id)) ? 'regularization' : 'data';
    this.nodes.push({
      id: opId(node),
      kind: 'op',
      label: node.kernelName,
      layer: this.input.opOwner.get(node.id) ?? this.penaltyOwner.get(node.id)?.layer ?? null,
      shape: out ? [...out.shape] : [],
      role,
      termId: term?.termId ?? null,
      weight: null,
      reachesMinimizedLoss: node.outputs.some((o) => toY.has(o.id)),
    });
    for (const name in node.inputs) {
      const t = node.inputs[name];
      const from = producer.get(t.id);
      const fromId = from ? opId(from) : this.ensureVar(t.id, t.shape);
      if (fromId !== null) this.edges.push({ from: fromId, to: opId(node), shape: [...t.shape] });
    }
  }

  /** The loss does not depend on any variable: still give the sink a node so the picture has one. */
  addLossSink(id: string): void {
    this.nodes.push({ id, kind: 'op', label: 'loss', layer: null, shape: [], role: 'data', termId: null, weight: null, reachesMinimizedLoss: true });
  }

  /** A term: at the op that computed it, else on a detached node of its own (with an edge from its weight). */
  addTerm(t: TermSpec): TermInfo {
    const producerNode = t.tensorId !== null ? this.reach.producer.get(t.tensorId) : undefined;
    const nodeId = producerNode ? opId(producerNode) : this.addUnevaluated(t);
    return {
      id: t.termId,
      collection: 'regularization',
      kind: t.kind,
      layer: t.layer,
      weight: t.weight,
      regularizer: t.regularizer,
      nodeId,
      evaluated: t.tensorId !== null,
      reachesMinimizedLoss: t.tensorId !== null && this.reach.toY.has(t.tensorId),
      ...(t.pieces ? { pieces: t.pieces } : {}),
      ...(t.source !== undefined ? { source: t.source } : {}),
      ...(t.summedAt !== undefined ? { summedAt: t.summedAt } : {}),
    };
  }

  private addUnevaluated(t: TermSpec): string {
    const nodeId = `term:${t.termId}`;
    this.nodes.push({
      id: nodeId,
      kind: 'unevaluated-term',
      label: `${t.regularizer?.className ?? 'hand-written'} penalty`,
      layer: t.layer,
      shape: [],
      role: 'regularization',
      termId: t.termId,
      weight: t.weight,
      reachesMinimizedLoss: false,
    });
    if (t.weightTensorId !== null) {
      const from = this.ensureVar(t.weightTensorId, t.weightShape);
      if (from) this.edges.push({ from, to: nodeId, shape: [...t.weightShape] });
    }
    return nodeId;
  }
}

/**
 * The loss graph of one step: the tape's ops that lead from the variables to the minimized scalar,
 * plus each penalty's own sub-graph even when it never reaches that scalar (the bug we exist to show),
 * plus a detached node for each penalty the step never computed at all.
 */
export function buildLossGraph(input: TapeGraphInput): LossGraph {
  const started = performance.now();
  const reach = reachOf(input);
  const parts = new GraphParts(input, reach);
  for (const node of reach.included) parts.addOp(node);
  const yNode = reach.producer.get(input.yTensorId);
  const minimizedNodeId = yNode ? opId(yNode) : `op:loss`;
  if (!yNode) parts.addLossSink(minimizedNodeId);
  const termInfos = input.terms.map((t) => parts.addTerm(t));
  const dataNodeId = findDataNode(reach.included, reach.mixedNodes, reach.toPenalty, yNode, reach.afterPenalty);
  termInfos.unshift({
    id: DATA_TERM_ID,
    collection: 'data',
    kind: 'data',
    layer: null,
    weight: null,
    regularizer: null,
    nodeId: dataNodeId ?? minimizedNodeId,
    evaluated: true,
    reachesMinimizedLoss: true,
  });
  const variables = input.xs.filter((x) => reach.toY.has(x.tensorId) || reach.toPenalty.has(x.tensorId)).map((x) => x.weightId);
  return {
    objective: input.objective,
    step: input.step,
    nodes: parts.nodes,
    edges: parts.edges,
    minimizedNodeId,
    dataNodeId,
    terms: termInfos,
    variables,
    source: input.source,
    ...(input.minimizedSource !== undefined ? { minimizedSource: input.minimizedSource } : {}),
    ...(input.rawVariables ? { rawVariables: input.rawVariables } : {}),
    captureMs: performance.now() - started,
  };
}

/** The last purely-data op that feeds the sum with the penalties, or the sink itself when nothing is added. */
function findDataNode(
  included: readonly TapeNode[],
  mixedNodes: ReadonlySet<number>,
  toPenalty: ReadonlySet<number>,
  yNode: TapeNode | undefined,
  afterPenalty: ReadonlySet<number>,
): string | null {
  if (!yNode) return null;
  if (!mixedNodes.has(yNode.id)) return opId(yNode);
  const producer = new Map<number, TapeNode>();
  for (const n of included) for (const o of n.outputs) producer.set(o.id, n);
  let best: TapeNode | null = null;
  for (const n of included) {
    if (!mixedNodes.has(n.id)) continue;
    for (const name in n.inputs) {
      const t = n.inputs[name];
      if (afterPenalty.has(t.id) || toPenalty.has(t.id)) continue;
      const p = producer.get(t.id);
      if (p && (best === null || p.id > best.id)) best = p;
    }
  }
  return best ? opId(best) : null;
}
