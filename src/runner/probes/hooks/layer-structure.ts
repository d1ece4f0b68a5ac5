// Which of the created layers are listed, and which listed layer owns each weight (an RNN's cell's are its RNN's).
import type { SourcePosition } from '../../../shared/protocol/run-data';
import { nestedLayers, type LayerLike, type LayerVariableLike } from '../../tfjs-internals';
import { classNameOf } from './describe-names';
import { layerName } from './layer-descriptions';

export interface LayerRecord {
  layer: LayerLike;
  source: SourcePosition | null;
  /** Built by tfjs from a saved model (`tf.loadLayersModel`): `source` is the line that loaded it. */
  loaded?: boolean;
  /** Built while a load was under way: the load's, if its model holds it. */
  duringLoad?: boolean;
}

export interface LayerStructure {
  listedRecords: LayerRecord[];
  listed: LayerLike[];
  owner: Map<string, LayerLike>;
  /** Weights an outer layer owns but does not report itself. */
  extra: Map<LayerLike, LayerVariableLike[]>;
  /** Any layer's name → the name of the listed layer it belongs to. */
  rootName: Map<string, string>;
}

/**
 * Which layers to list and which listed layer owns each weight. tfjs keeps an RNN's weights on its cell and a
 * wrapper's on its inner layer(s), and every one of them reports the same weights: each weight is listed once,
 * under the outermost layer (the one the user wrote), with the inner layer that made it as a detail.
 */
export function layerStructure(records: readonly LayerRecord[]): LayerStructure {
  const candidates = records.filter((r) => constructed(r.layer) && !isContainerOrInput(r.layer));
  const parent = new Map<LayerLike, LayerLike>();
  for (const r of candidates) for (const n of nestedLayers(r.layer)) if (n.layer !== r.layer && !parent.has(n.layer)) parent.set(n.layer, r.layer);
  const root = (l: LayerLike): LayerLike => {
    const seen = new Set<LayerLike>();
    let x = l;
    while (parent.has(x) && !seen.has(x)) {
      seen.add(x);
      x = parent.get(x)!;
    }
    return x;
  };
  const listedRecords = candidates.filter((r) => !parent.has(r.layer));
  const listed = listedRecords.map((r) => r.layer);
  const owner = new Map<string, LayerLike>();
  const extra = new Map<LayerLike, LayerVariableLike[]>();
  for (const layer of listed) for (const w of safeWeights(layer)) if (!owner.has(w.name)) owner.set(w.name, layer);
  // A weight an inner layer made that its outer layer does not report (yet): still the outer layer's.
  for (const r of candidates) {
    if (!parent.has(r.layer)) continue;
    const top = root(r.layer);
    for (const w of safeWeights(r.layer)) {
      if (owner.has(w.name)) continue;
      owner.set(w.name, top);
      extra.set(top, [...(extra.get(top) ?? []), w]);
    }
  }
  const rootName = new Map<string, string>();
  for (const r of candidates) rootName.set(layerName(r.layer), layerName(root(r.layer)));
  return { listedRecords, listed, owner, extra, rootName };
}

function isContainerOrInput(layer: LayerLike): boolean {
  return Array.isArray(layer.layers) || classNameOf(layer) === 'InputLayer';
}

/**
 * False for a layer whose constructor threw before tfjs's base constructor named it (a cell class of the script's
 * own that passes no name and has no registered class name, say): the script holds no such layer.
 */
function constructed(layer: LayerLike): boolean {
  return 'name' in layer;
}

export function safeWeights(layer: LayerLike): LayerVariableLike[] {
  try {
    return layer.weights ?? [];
  } catch {
    return [];
  }
}
