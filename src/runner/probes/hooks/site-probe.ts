import type { SourcePosition } from '../../../shared/protocol/run-data';
import type { AddTapeNodeFn, EngineInternals, MakeVariableFn, Variable } from '../../tfjs-internals';
import type { UserFrames } from '../../user-frames';

/**
 * Where the user's code made things:
 * - every `tf.variable` (the engine's makeVariable), except a layer's own weights, which the layer probe places;
 * - every op of a captured step that no layer ran (the engine's addTapeNode). A stack trace per op is far too
 *   expensive for every step, so this records only while `recordOps` is on, on the first step of each objective.
 */
export class SiteProbe {
  private readonly variableSites = new WeakMap<object, SourcePosition | null>();
  private opSites: Map<number, SourcePosition | null> | null = null;
  /** Time spent placing the ops of the step being recorded (part of its capture cost). */
  private recordingMs = 0;

  constructor(
    private readonly engine: EngineInternals,
    private readonly frames: UserFrames,
    /** True while a layer creates its weights or runs its ops: their place is the layer's. */
    private readonly insideLayer: () => boolean,
  ) {}

  install(): void {
    const probe = this;
    const engine = this.engine;
    const makeVariable = engine.makeVariable;
    engine.makeVariable = function (this: EngineInternals, ...args: Parameters<MakeVariableFn>) {
      const v = makeVariable.apply(this, args);
      if (!probe.insideLayer()) probe.variableSites.set(v, probe.frames.captureSite());
      return v;
    } satisfies MakeVariableFn;
    const addTapeNode = engine.addTapeNode;
    engine.addTapeNode = function (this: EngineInternals, ...args: Parameters<AddTapeNodeFn>) {
      addTapeNode.apply(this, args);
      const sites = probe.opSites;
      if (sites === null || probe.insideLayer()) return;
      const started = performance.now();
      const tape = this.state.activeTape;
      const node = tape?.[tape.length - 1];
      if (node) sites.set(node.id, probe.frames.captureSite());
      probe.recordingMs += performance.now() - started;
    } satisfies AddTapeNodeFn;
  }

  /** Start recording op sites (a captured step); returns the map that fills as ops run. */
  recordOps(): Map<number, SourcePosition | null> {
    this.opSites = new Map();
    this.recordingMs = 0;
    return this.opSites;
  }

  /** Milliseconds the last recording spent capturing stacks. */
  recordedMs(): number {
    return this.recordingMs;
  }

  stopRecording(): void {
    this.opSites = null;
  }

  variableSource(v: Variable): SourcePosition | null {
    return this.variableSites.get(v) ?? null;
  }
}
