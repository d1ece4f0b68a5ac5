import { probeClock } from '../step/probe-clock';
import type { LayerInfo, RegularizerInfo, SourcePosition, WeightInfo } from '../../../shared/protocol/run-data';
import { activityTermId, penaltyTermId } from '../../../shared/protocol/term-ids';
import {
  LAYER_FIRST_FIELD,
  layerPrototype,
  nestedLayers,
  readScalar,
  type AddWeightFn,
  type EngineInternals,
  type LayerLike,
  type LayerVariableLike,
  type RegularizerLike,
  type Tensor,
  type Tf,
} from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';
import { classNameOf, nameOf } from './describe-names';
import { layerName, regularizerInfo, shortWeightName, weightRole } from './layer-descriptions';
import { layerStructure, safeWeights, type LayerRecord, type LayerStructure } from './layer-structure';
import { LoadSites } from './load-sites';
import { SourceNames } from './source-names';

/** A penalty the step computed: which term, which tensor, and its value read while it was alive. */
export interface EvaluatedPenalty {
  termId: string;
  tensorId: number;
  value: number;
  /** The penalty tensor itself (alive while the step runs): the decoupled what-if subtracts it from the loss. */
  tensor: Tensor;
}

export interface RegularizedWeight {
  termId: string;
  layer: string;
  variable: LayerVariableLike;
  regularizer: RegularizerLike;
  info: RegularizerInfo;
}

/**
 * Hooks tfjs-layers' Layer class:
 * - where each layer is created (a setter for the first field the base constructor assigns);
 * - each regularized weight's penalty closure, replaced by one that tags its output tensor;
 * - `apply`, to attribute the ops of a captured step to the innermost layer that ran them.
 */
export class LayerProbe {
  /** Names the values at the user's lines: shared with the step probe, one read per file. */
  readonly names = new SourceNames();
  private readonly records: LayerRecord[] = [];
  private readonly recordOf = new WeakMap<LayerLike, LayerRecord>();
  private readonly loads: LoadSites;
  private readonly regularized = new Map<string, RegularizedWeight>();
  /** Weight id → the layer whose addWeight made it (an RNN's cell, not the RNN). */
  private readonly creators = new Map<string, LayerLike>();
  private evaluated: EvaluatedPenalty[] | null = null;
  private opOwner: Map<number, string> | null = null;
  private lastSignature = '';
  private layerDepth = 0;
  private structureCache: { records: number; weights: number; value: LayerStructure } | null = null;

  constructor(
    private readonly tf: Tf,
    private readonly engine: EngineInternals,
    private readonly frames: UserFrames,
  ) {
    this.loads = new LoadSites(frames, (layers, site) => this.loaded(layers, site));
  }

  install(): void {
    this.loads.install(this.tf);
    const proto = layerPrototype(this.tf);
    this.hookCreation(proto);
    this.hookAddWeight(proto);
    this.hookApply(proto);
  }

  private hookCreation(proto: Record<string, unknown>): void {
    const probe = this;
    Object.defineProperty(proto, LAYER_FIRST_FIELD, {
      configurable: true,
      get() {
        return undefined;
      },
      set(this: LayerLike, value: unknown) {
        Object.defineProperty(this, LAYER_FIRST_FIELD, { value, writable: true, configurable: true, enumerable: true });
        const source = probe.frames.captureSite(constructorNames(this));
        // Built with no line of the script's on the stack while a model loads: the load's layer (fixed up once it resolves).
        const duringLoad = probe.loads.loading();
        const record: LayerRecord = duringLoad && source === null ? { layer: this, source: probe.loads.site(), loaded: true, duringLoad } : { layer: this, source, duringLoad };
        probe.records.push(record);
        probe.recordOf.set(this, record);
      },
    });
  }

  private hookAddWeight(proto: Record<string, unknown>): void {
    const probe = this;
    const original = proto.addWeight as AddWeightFn;
    proto.addWeight = function addWeight(this: LayerLike, ...args: Parameters<AddWeightFn>) {
      probe.layerDepth++;
      let variable: LayerVariableLike;
      try {
        variable = original.apply(this, args);
      } finally {
        probe.layerDepth--;
      }
      probe.creators.set(variable.name, this);
      const regularizer = args[4];
      if (regularizer != null && this._losses.length > 0) {
        const termId = penaltyTermId(variable.name);
        const info = regularizerInfo(regularizer);
        probe.regularized.set(termId, { termId, layer: layerName(this), variable, regularizer, info });
        // Same penalty as tfjs computes, but its output tensor is tagged with the term it belongs to.
        this._losses[this._losses.length - 1] = () => {
          // A layer penalty's ops are the layer's: no per-op stack capture for them on a captured step.
          probe.layerDepth++;
          let t: Tensor;
          try {
            t = regularizer.apply(variable.read());
          } finally {
            probe.layerDepth--;
          }
          const started = performance.now();
          probe.evaluated?.push({ termId, tensorId: t.id, value: readScalar(t), tensor: t });
          probeClock.add(started, 'penalties');
          return t;
        };
      }
      return variable;
    } satisfies AddWeightFn;
  }

  private hookApply(proto: Record<string, unknown>): void {
    const probe = this;
    const original = proto.apply as (this: LayerLike, ...a: unknown[]) => unknown;
    proto.apply = function apply(this: LayerLike, ...args: unknown[]) {
      const owner = probe.opOwner;
      const tape = probe.engine.state.activeTape;
      if (owner === null || tape === null) return original.apply(this, args);
      const start = tape.length;
      probe.layerDepth++;
      try {
        return original.apply(this, args);
      } finally {
        probe.layerDepth--;
        // Inner layers return first and claim their ops; the enclosing model gets the rest.
        for (let i = start; i < tape.length; i++) {
          if (!owner.has(tape[i].id)) owner.set(tape[i].id, layerName(this));
        }
      }
    };
  }

  /** A load resolved: its model's layers are the load's, at the line that loaded them. */
  private loaded(layers: LayerLike[], site: SourcePosition | null): void {
    for (const layer of layers) {
      const record = this.recordOf.get(layer);
      // Only layers built during a load: one the script built before and reused keeps its own line. A layer of the
      // script's own class that tfjs built (its fromConfig on the stack) is the load's too.
      if (!record?.duringLoad) continue;
      record.source = site;
      record.loaded = true;
    }
  }

  /** True while a layer makes its weights, or (on a captured step) runs its ops. */
  insideLayer(): boolean {
    return this.layerDepth > 0;
  }

  /** Start collecting penalties (every step) and op owners (only on a captured step). */
  beginStep(captureOwners: boolean): void {
    this.evaluated = [];
    this.opOwner = captureOwners ? new Map() : null;
  }

  endStep(): { evaluated: EvaluatedPenalty[]; opOwner: Map<number, string> | null } {
    const out = { evaluated: this.evaluated ?? [], opOwner: this.opOwner };
    this.evaluated = null;
    this.opOwner = null;
    return out;
  }

  regularizedWeights(): RegularizedWeight[] {
    return [...this.regularized.values()];
  }

  /** Variable tensor id → weight and the listed layer it belongs to, for the layers known so far. */
  weightsByTensorId(): Map<number, { weightId: string; layer: string }> {
    const out = new Map<number, { weightId: string; layer: string }>();
    const { listed, owner, extra } = this.structure();
    for (const layer of listed) {
      for (const w of [...safeWeights(layer), ...(extra.get(layer) ?? [])]) {
        const holder = owner.get(w.name) ?? layer;
        out.set(w.val.id, { weightId: w.name, layer: layerName(holder) });
      }
    }
    return out;
  }

  /** The listed layer a layer's ops and weights belong to (an RNN cell's are its RNN's). */
  listedName(layerName: string): string {
    return this.structure().rootName.get(layerName) ?? layerName;
  }

  /** The listed layer that holds a weight, by weight id. */
  ownerOf(weightId: string): string | null {
    const holder = this.structure().owner.get(weightId);
    return holder ? layerName(holder) : null;
  }

  /** The layer structure, recomputed only when layers or weights were added since the last call. */
  private structure(): LayerStructure {
    const weightCount = this.creators.size;
    if (this.structureCache?.records === this.records.length && this.structureCache.weights === weightCount) return this.structureCache.value;
    const value = layerStructure(this.records);
    this.structureCache = { records: this.records.length, weights: weightCount, value };
    return value;
  }

  layers(): LayerInfo[] {
    const out: LayerInfo[] = [];
    const { listedRecords, owner, extra } = this.structure();
    for (const { layer, source, loaded } of listedRecords) {
      const weights = [...safeWeights(layer), ...(extra.get(layer) ?? [])].filter((w) => owner.get(w.name) === layer);
      const name = layerName(layer);
      out.push({
        name,
        className: classNameOf(layer),
        source,
        weights: weights.map((w) => ({
          id: nameOf(w.name, `${name}/${nameOf(w.originalName, 'weight')}`),
          name: shortWeightName(name, nameOf(w.originalName, 'weight')),
          shape: [...w.shape],
          trainable: Boolean(w.trainable),
          role: weightRole(nameOf(w.originalName, '')),
          regularizer: this.regularized.get(penaltyTermId(w.name))?.info ?? null,
          heldBy: this.heldBy(layer, w.name),
        })),
        activityRegularizer: layer.activityRegularizer ? regularizerInfo(layer.activityRegularizer) : null,
        // A loaded layer's line binds the model it loaded (`const m = await tf.loadLayersModel(…)`), not the layer.
        binding: loaded ? null : this.names.referenceAt(source),
      });
    }
    return out;
  }

  /** The inner layer that made a weight, and the path to it from the listed layer (`cell`, `forwardLayer.cell`). */
  private heldBy(outer: LayerLike, weightId: string): WeightInfo['heldBy'] {
    const creator = this.creators.get(weightId);
    if (!creator || creator === outer) return null;
    const search = (from: LayerLike, path: string, depth: number): string | null => {
      if (depth > 4) return null;
      for (const n of nestedLayers(from)) {
        const p = path ? `${path}.${n.path}` : n.path;
        if (n.layer === creator) return p;
        const deeper = search(n.layer, p, depth + 1);
        if (deeper) return deeper;
      }
      return null;
    };
    const path = search(outer, '', 0);
    return path === null ? null : { layer: layerName(creator), className: classNameOf(creator), path };
  }

  activityTerms(): Array<{ termId: string; layer: string; info: RegularizerInfo }> {
    return this.structure()
      .listedRecords.filter((r) => r.layer.activityRegularizer != null)
      .map((r) => ({
        termId: activityTermId(layerName(r.layer)),
        layer: layerName(r.layer),
        info: regularizerInfo(r.layer.activityRegularizer as RegularizerLike),
      }));
  }

  /** The layer list, if it changed since the last call (new layers, or weights built). */
  layersIfChanged(): LayerInfo[] | null {
    const layers = this.layers();
    // A loaded layer's line can change once its load resolves: part of what is news.
    const signature = layers.map((l) => `${l.name}:${l.weights.length}:${l.source?.line ?? ''}:${l.source?.column ?? ''}`).join(',');
    if (signature === this.lastSignature) return null;
    this.lastSignature = signature;
    return layers;
  }
}

function constructorNames(obj: object): Set<string> {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const name = (p.constructor as { name?: string } | undefined)?.name;
    if (name) names.add(name);
  }
  return names;
}
