import { describe, expect, it } from 'vitest';
import { ancestorTensors, buildLossGraph, type TapeGraphInput, type TermSpec } from '../../src/runner/probes/tape/tape-graph';
import type { TapeNode } from '../../src/runner/tfjs-internals';

/** A tiny tape builder: op(id, kernel, inputs, output) with every tensor 1-D of size 2 unless said. */
function op(id: number, kernelName: string, inputs: number[], output: number, shape: number[] = [2]): TapeNode {
  return {
    id,
    kernelName,
    inputs: Object.fromEntries(inputs.map((t, i) => [`x${i}`, { id: t, shape: [2] }])),
    outputs: [{ id: output, shape }],
  };
}

// Tensors: 1 = kernel variable, 2 = bias variable, 50 = input batch (not a variable).
const forward = [op(1, 'MatMul', [50, 1], 10), op(2, 'Add', [10, 2], 11), op(3, 'Mean', [11], 12, [])];
const penalty = [op(4, 'Square', [1], 20), op(5, 'Sum', [20], 21, [])]; // penalty output: tensor 21
const sumUp = [op(6, 'Add', [12, 21], 30, [])];

const term = (tensorId: number | null): TermSpec => ({
  termId: 'penalty:dense/kernel',
  kind: 'weight-penalty',
  layer: 'dense',
  weight: 'dense/kernel',
  regularizer: { className: 'L1L2', l1: 0, l2: 1e-3 },
  tensorId,
  weightTensorId: 1,
  weightShape: [2, 2],
});

const input = (tape: TapeNode[], y: number, terms: TermSpec[]): TapeGraphInput => ({
  objective: 0,
  step: 1,
  tape,
  xs: [
    { tensorId: 1, weightId: 'dense/kernel' },
    { tensorId: 2, weightId: 'dense/bias' },
  ],
  yTensorId: y,
  terms,
  opOwner: new Map([
    [1, 'dense'],
    [2, 'dense'],
  ]),
  weights: new Map([
    [1, { weightId: 'dense/kernel', layer: 'dense' }],
    [2, { weightId: 'dense/bias', layer: 'dense' }],
  ]),
  source: null,
});

describe('ancestorTensors', () => {
  it('walks back from the targets to every tensor they depend on', () => {
    const anc = ancestorTensors([...forward, ...penalty, ...sumUp], [30]);
    expect([...anc].sort((a, b) => a - b)).toEqual([1, 2, 10, 11, 12, 20, 21, 30, 50]);
    expect(ancestorTensors([...forward, ...penalty], [12]).has(21)).toBe(false);
  });
});

describe('buildLossGraph', () => {
  it('model.fit shape: the penalty is summed into the loss, with data / regularization / mixed roles', () => {
    const g = buildLossGraph(input([...forward, ...penalty, ...sumUp], 30, [term(21)]));
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    expect(g.minimizedNodeId).toBe('op:6');
    expect(g.dataNodeId).toBe('op:3');
    expect(byId.get('op:6')?.role).toBe('mixed');
    expect(byId.get('op:4')?.role).toBe('regularization');
    expect(byId.get('op:5')).toMatchObject({ termId: 'penalty:dense/kernel', role: 'regularization', layer: 'dense', reachesMinimizedLoss: true });
    expect(byId.get('op:1')?.role).toBe('data');
    expect(byId.get('var:dense/kernel')).toMatchObject({ kind: 'variable', layer: 'dense' });
    expect(g.terms.find((t) => t.id === 'penalty:dense/kernel')).toMatchObject({ evaluated: true, reachesMinimizedLoss: true, nodeId: 'op:5' });
    expect(g.terms[0]).toMatchObject({ id: 'data', nodeId: 'op:3' });
    // The data input (tensor 50) is not a variable: no node, no edge.
    expect(g.edges.some((e) => e.from.includes('50'))).toBe(false);
    expect(g.edges).toContainEqual({ from: 'var:dense/kernel', to: 'op:4', shape: [2] });
    expect(g.variables).toEqual(['dense/kernel', 'dense/bias']);
  });

  it('a penalty computed in the step but never added is a detached branch that does not reach the loss', () => {
    const g = buildLossGraph(input([...forward, ...penalty], 12, [term(21)]));
    const t = g.terms.find((x) => x.id === 'penalty:dense/kernel');
    expect(t).toMatchObject({ evaluated: true, reachesMinimizedLoss: false, nodeId: 'op:5' });
    expect(g.nodes.find((n) => n.id === 'op:5')?.reachesMinimizedLoss).toBe(false);
    expect(g.minimizedNodeId).toBe('op:3');
    expect(g.dataNodeId).toBe('op:3');
  });

  it('a penalty the step never computed gets its own node, fed by its weight', () => {
    const g = buildLossGraph(input(forward, 12, [term(null)]));
    const node = g.nodes.find((n) => n.id === 'term:penalty:dense/kernel');
    expect(node).toMatchObject({ kind: 'unevaluated-term', role: 'regularization', reachesMinimizedLoss: false });
    expect(g.edges).toContainEqual({ from: 'var:dense/kernel', to: 'term:penalty:dense/kernel', shape: [2, 2] });
    expect(g.terms.find((x) => x.id === 'penalty:dense/kernel')).toMatchObject({ evaluated: false, reachesMinimizedLoss: false });
  });

  it('leaves out ops that lead neither to the loss nor to a penalty', () => {
    const stray = op(9, 'Exp', [10], 40);
    const g = buildLossGraph(input([...forward, stray, ...penalty, ...sumUp], 30, [term(21)]));
    expect(g.nodes.some((n) => n.id === 'op:9')).toBe(false);
  });
});
