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
 * The loss graph of one step: the tape's ops that lead from the variables to the minimized scalar,
 * plus each penalty's own sub-graph even when it never reaches that scalar (the bug we exist to show),
 * plus a detached node for each penalty the step never computed at all.
 */
export function buildLossGraph(input: TapeGraphInput): LossGraph {
  const started = performance.now();
  const { tape, xs, yTensorId, terms } = input;

  // Forward: which tensors are functions of the variables (or of a penalized weight).
  const fromX = new Set<number>(xs.map((x) => x.tensorId));
  for (const t of terms) {
    if (t.weightTensorId !== null) fromX.add(t.weightTensorId);
    for (const id of t.coveredTensorIds ?? []) fromX.add(id);
  }
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX.has(node.inputs[name].id)) {
        nodeFromX.add(node.id);
        for (const o of node.outputs) fromX.add(o.id);
        break;
      }
    }
  }

  const penaltyTensors = terms.filter((t) => t.tensorId !== null).map((t) => t.tensorId as number);
  const toY = ancestorTensors(tape, [yTensorId]);
  const toPenalty = ancestorTensors(tape, penaltyTensors);

  // Downstream of a penalty output: where penalties are summed into the loss.
  const afterPenalty = new Set<number>(penaltyTensors);
  const mixedNodes = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (afterPenalty.has(node.inputs[name].id)) {
        mixedNodes.add(node.id);
        for (const o of node.outputs) afterPenalty.add(o.id);
        break;
      }
    }
  }

  const producer = new Map<number, TapeNode>();
  const included: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id)) continue;
    if (!node.outputs.some((o) => toY.has(o.id) || toPenalty.has(o.id))) continue;
    included.push(node);
    for (const o of node.outputs) producer.set(o.id, node);
  }

  const termByTensor = new Map<number, TermSpec>();
  for (const t of terms) if (t.tensorId !== null) termByTensor.set(t.tensorId, t);
  // Which penalty each op computes, so a penalty's ops sit with its layer even though calculateLosses runs outside apply().
  const penaltyOwner = new Map<number, TermSpec>();
  const tensorOwner = new Map<number, TermSpec>(termByTensor);
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    const owner = node.outputs.map((o) => tensorOwner.get(o.id)).find((t) => t !== undefined);
    if (!owner) continue;
    penaltyOwner.set(node.id, owner);
    for (const name in node.inputs) if (!tensorOwner.has(node.inputs[name].id)) tensorOwner.set(node.inputs[name].id, owner);
  }

  const xWeight = new Map<number, string>(xs.map((x) => [x.tensorId, x.weightId]));
  const weightFor = (tensorId: number) => xWeight.get(tensorId) ?? input.weights.get(tensorId)?.weightId;

  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const varNodes = new Map<string, GraphNode>();
  const ensureVar = (tensorId: number, shape: number[]): string | null => {
    const weightId = weightFor(tensorId);
    if (weightId === undefined) return null;
    const id = varId(weightId);
    if (!varNodes.has(id)) {
      const node: GraphNode = {
        id,
        kind: 'variable',
        label: weightId.split('/').pop() ?? weightId,
        layer: input.weights.get(tensorId)?.layer ?? null,
        shape: [...shape],
        role: 'data',
        termId: null,
        weight: weightId,
        reachesMinimizedLoss: toY.has(tensorId),
      };
      varNodes.set(id, node);
      nodes.push(node);
    }
    return id;
  };

  for (const node of included) {
    const out = node.outputs[0];
    const term = node.outputs.map((o) => termByTensor.get(o.id)).find((t) => t !== undefined);
    const owner = penaltyOwner.get(node.id);
    const role: GraphNode['role'] = mixedNodes.has(node.id)
      ? 'mixed'
      : node.outputs.some((o) => toPenalty.has(o.id))
        ? 'regularization'
        : 'data';
    nodes.push({
      id: opId(node),
      kind: 'op',
      label: node.kernelName,
      layer: input.opOwner.get(node.id) ?? owner?.layer ?? null,
      shape: out ? [...out.shape] : [],
      role,
      termId: term?.termId ?? null,
      weight: null,
      reachesMinimizedLoss: node.outputs.some((o) => toY.has(o.id)),
    });
    for (const name in node.inputs) {
      const t = node.inputs[name];
      const from = producer.get(t.id);
      const fromId = from ? opId(from) : ensureVar(t.id, t.shape);
      if (fromId !== null) edges.push({ from: fromId, to: opId(node), shape: [...t.shape] });
    }
  }

  const yNode = producer.get(yTensorId);
  const minimizedNodeId = yNode ? opId(yNode) : `op:loss`;
  if (!yNode) {
    // The loss does not depend on any variable: still give the sink a node so the picture has one.
    nodes.push({
      id: minimizedNodeId,
      kind: 'op',
      label: 'loss',
      layer: null,
      shape: [],
      role: 'data',
      termId: null,
      weight: null,
      reachesMinimizedLoss: true,
    });
  }

  const termInfos: TermInfo[] = [];
  for (const t of terms) {
    let nodeId: string;
    const producerNode = t.tensorId !== null ? producer.get(t.tensorId) : undefined;
    if (producerNode) {
      nodeId = opId(producerNode);
    } else {
      nodeId = `term:${t.termId}`;
      nodes.push({
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
        const from = ensureVar(t.weightTensorId, t.weightShape);
        if (from) edges.push({ from, to: nodeId, shape: [...t.weightShape] });
      }
    }
    termInfos.push({
      id: t.termId,
      collection: 'regularization',
      kind: t.kind,
      layer: t.layer,
      weight: t.weight,
      regularizer: t.regularizer,
      nodeId,
      evaluated: t.tensorId !== null,
      reachesMinimizedLoss: t.tensorId !== null && toY.has(t.tensorId),
      ...(t.pieces ? { pieces: t.pieces } : {}),
      ...(t.source !== undefined ? { source: t.source } : {}),
      ...(t.summedAt !== undefined ? { summedAt: t.summedAt } : {}),
    });
  }

  const dataNodeId = findDataNode(included, mixedNodes, toPenalty, yNode, afterPenalty);
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

  const variables = xs.filter((x) => toY.has(x.tensorId) || toPenalty.has(x.tensorId)).map((x) => x.weightId);
  return {
    objective: input.objective,
    step: input.step,
    nodes,
    edges,
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
