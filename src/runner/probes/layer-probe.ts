import { probeClock } from './probe-clock';
import type { LayerInfo, RegularizerInfo, SourcePosition, WeightRole } from '../../shared/protocol/model';
import { activityTermId, penaltyTermId } from '../../shared/protocol/term-ids';
import type {
  AddWeightFn,
  EngineInternals,
  LayerLike,
  LayerVariableLike,
  RegularizerLike,
  Tensor,
  Tf,
} from '../tfjs-internals';
import type { UserFrames } from '../user-frames';

/** A penalty the step computed: which term, which tensor, and its value read while it was alive. */
export interface EvaluatedPenalty {
  termId: string;
  tensorId: number;
  value: number;
}

export interface RegularizedWeight {
  termId: string;
  layer: string;
  variable: LayerVariableLike;
  regularizer: RegularizerLike;
  info: RegularizerInfo;
}

interface LayerRecord {
  layer: LayerLike;
  source: SourcePosition | null;
}

export function describeRegularizer(reg: RegularizerLike): RegularizerInfo {
  const config = safeConfig(reg);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    className: reg.getClassName?.() ?? reg.constructor?.name ?? 'Regularizer',
    l1: num(reg.l1 ?? config.l1),
    l2: num(reg.l2 ?? config.l2),
  };
}

function safeConfig(obj: { getConfig?(): Record<string, unknown> }): Record<string, unknown> {
  try {
    return obj.getConfig?.() ?? {};
  } catch {
    return {};
  }
}

export function weightRole(originalName: string): WeightRole {
  const leaf = originalName.split('/').pop() ?? originalName;
  if (/kernel$/.test(leaf)) return 'kernel';
  if (leaf === 'bias') return 'bias';
  if (leaf === 'gamma') return 'gamma';
  if (leaf === 'beta') return 'beta';
  if (leaf === 'embeddings') return 'embedding';
  return 'other';
}

function isContainerOrInput(layer: LayerLike): boolean {
  const cls = layer.getClassName();
  return Array.isArray(layer.layers) || cls === 'InputLayer';
}

/**
 * Hooks tfjs-layers' Layer class:
 * - where each layer is created (a setter for the first field the base constructor assigns);
 * - each regularized weight's penalty closure, replaced by one that tags its output tensor;
 * - `apply`, to attribute the ops of a captured step to the innermost layer that ran them.
 */
export class LayerProbe {
  private readonly records: LayerRecord[] = [];
  private readonly regularized = new Map<string, RegularizedWeight>();
  private evaluated: EvaluatedPenalty[] | null = null;
  private opOwner: Map<number, string> | null = null;
  private lastSignature = '';

  constructor(
    private readonly tf: Tf,
    private readonly engine: EngineInternals,
    private readonly frames: UserFrames,
  ) {}

  install(): void {
    const proto = (this.tf.layers as unknown as { Layer: { prototype: object } }).Layer.prototype as Record<
      string,
      unknown
    >;
    this.hookCreation(proto);
    this.hookAddWeight(proto);
    this.hookApply(proto);
  }

  private hookCreation(proto: Record<string, unknown>): void {
    const probe = this;
    Object.defineProperty(proto, '_addedWeightNames', {
      configurable: true,
      get() {
        return undefined;
      },
      set(this: LayerLike, value: unknown) {
        Object.defineProperty(this, '_addedWeightNames', { value, writable: true, configurable: true, enumerable: true });
        probe.records.push({ layer: this, source: probe.frames.captureSite(constructorNames(this)) });
      },
    });
  }

  private hookAddWeight(proto: Record<string, unknown>): void {
    const probe = this;
    const original = proto.addWeight as AddWeightFn;
    proto.addWeight = function addWeight(this: LayerLike, ...args: Parameters<AddWeightFn>) {
      const variable = original.apply(this, args);
      const regularizer = args[4];
      if (regularizer != null && this._losses.length > 0) {
        const termId = penaltyTermId(variable.name);
        const info = describeRegularizer(regularizer);
        probe.regularized.set(termId, { termId, layer: this.name, variable, regularizer, info });
        // Same penalty as tfjs computes, but its output tensor is tagged with the term it belongs to.
        this._losses[this._losses.length - 1] = () => {
          const t = regularizer.apply(variable.read());
          const started = performance.now();
          probe.evaluated?.push({ termId, tensorId: t.id, value: readScalar(t) });
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
      try {
        return original.apply(this, args);
      } finally {
        // Inner layers return first and claim their ops; the enclosing model gets the rest.
        for (let i = start; i < tape.length; i++) {
          if (!owner.has(tape[i].id)) owner.set(tape[i].id, this.name);
        }
      }
    };
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

  /** Variable tensor id → weight, for the layers known so far. */
  weightsByTensorId(): Map<number, { weightId: string; layer: string }> {
    const out = new Map<number, { weightId: string; layer: string }>();
    for (const { layer } of this.records) {
      for (const w of safeWeights(layer)) out.set(w.val.id, { weightId: w.name, layer: layer.name });
    }
    return out;
  }

  layers(): LayerInfo[] {
    const out: LayerInfo[] = [];
    for (const { layer, source } of this.records) {
      if (isContainerOrInput(layer)) continue;
      out.push({
        name: layer.name,
        className: layer.getClassName(),
        source,
        weights: safeWeights(layer).map((w) => ({
          id: w.name,
          name: w.originalName.split('/').pop() ?? w.originalName,
          shape: [...w.shape],
          trainable: w.trainable,
          role: weightRole(w.originalName),
          regularizer: this.regularized.get(penaltyTermId(w.name))?.info ?? null,
        })),
        activityRegularizer: layer.activityRegularizer ? describeRegularizer(layer.activityRegularizer) : null,
      });
    }
    return out;
  }

  activityTerms(): Array<{ termId: string; layer: string; info: RegularizerInfo }> {
    return this.records
      .filter((r) => r.layer.activityRegularizer != null)
      .map((r) => ({
        termId: activityTermId(r.layer.name),
        layer: r.layer.name,
        info: describeRegularizer(r.layer.activityRegularizer as RegularizerLike),
      }));
  }

  /** The layer list, if it changed since the last call (new layers, or weights built). */
  layersIfChanged(): LayerInfo[] | null {
    const layers = this.layers();
    const signature = layers.map((l) => `${l.name}:${l.weights.length}`).join(',');
    if (signature === this.lastSignature) return null;
    this.lastSignature = signature;
    return layers;
  }
}

function safeWeights(layer: LayerLike): LayerVariableLike[] {
  try {
    return layer.weights ?? [];
  } catch {
    return [];
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

function readScalar(t: Tensor): number {
  try {
    return t.dataSync()[0] as number;
  } catch {
    return Number.NaN;
  }
}
