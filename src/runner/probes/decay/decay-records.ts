// The effective decay of each step until it is sent to the host, and the reasons some weights have no number.
import type { DecayApplier } from '../../../shared/protocol/run-data';
import type { DecayRecordInput } from '../../../shared/protocol/runner-protocol';
import type { WeightTrack } from './penalized-weight';

export interface StepRecord {
  objective: number;
  step: number;
  /** The penalty's share of the optimizer's update (s), per weight; null: not measurable this step. */
  inUpdate: Map<string, number | null>;
  /** Shrink applied to the weight outside the optimizer's update before the next step (a decoupled decay). */
  outside: Map<string, number>;
}

export class DecayRecords {
  private readonly records = new Map<string, StepRecord>();
  private readonly unavailableSent = new Map<string, string>();
  private readonly pendingUnavailable = new Map<string, string>();
  /** Weights the script shrank itself outside the optimizer at least once. */
  private readonly shrunkOutside = new Set<string>();
  /** Who applied each weight's outside shrink, as last sent; and the changes not sent yet. */
  private readonly appliers = new Map<string, string>();
  private readonly pendingAppliers = new Map<string, DecayApplier>();

  constructor(
    private readonly tracks: ReadonlyMap<string, WeightTrack>,
    private readonly emit: (record: DecayRecordInput) => void,
  ) {}

  record(objective: number, step: number): StepRecord {
    const key = `${objective}:${step}`;
    let r = this.records.get(key);
    if (!r) {
      r = { objective, step, inUpdate: new Map(), outside: new Map() };
      this.records.set(key, r);
    }
    return r;
  }

  /** A shrink of the weight outside the optimizer's update in that step (the what-if's, or the script's), and who applied it. */
  addOutside(objective: number, step: number, name: string, shrink: number, applier: DecayApplier | (() => DecayApplier)): void {
    const r = this.record(objective, step);
    r.outside.set(name, (r.outside.get(name) ?? 0) + shrink);
    this.noteApplier(name, applier);
  }

  /** The script (or an optimizer subclass around its update) shrank the weight between its update and the next step. */
  scriptShrank(objective: number, step: number, name: string, shrink: number, applier: DecayApplier | (() => DecayApplier)): void {
    this.addOutside(objective, step, name, shrink, applier);
    this.shrunkOutside.add(name);
  }

  /** `applier` may be lazy: its source line costs a stack capture, made only when who applies it changed. */
  private noteApplier(name: string, applier: DecayApplier | (() => DecayApplier)): void {
    const key = typeof applier === 'function' ? null : `${applier.by}|${applier.className}`;
    if (key !== null && this.appliers.get(name) === key) return;
    const a = typeof applier === 'function' ? applier() : applier;
    const k = `${a.by}|${a.className}`;
    if (this.appliers.get(name) === k) return;
    this.appliers.set(name, k);
    this.pendingAppliers.set(name, a);
  }

  /** The weight gets no number from now on, for this reason (sent once per reason). */
  unavailable(name: string, reason: string): void {
    const t = this.tracks.get(name);
    if (t) t.unavailable = reason;
    if (this.unavailableSent.get(name) === reason) return;
    this.unavailableSent.set(name, reason);
    this.pendingUnavailable.set(name, reason);
  }

  /** Sends the steps of `objective` recorded so far: a new step of it starts, so they are complete. */
  sendCompleted(objective: number): void {
    for (const [key, r] of this.records) {
      if (r.objective !== objective) continue;
      this.records.delete(key);
      this.send(r, false);
    }
  }

  /** Sends everything left at the end of the run (`cut`: see EffectiveDecay.finish). */
  finish(cut: boolean): void {
    for (const r of this.records.values()) this.send(r, cut);
    this.records.clear();
    if (this.pendingUnavailable.size > 0) {
      const any = [...this.tracks.values()][0];
      this.emit({ objective: any?.objective ?? 0, step: any?.step ?? 0, values: {}, unavailable: Object.fromEntries(this.pendingUnavailable) });
      this.pendingUnavailable.clear();
    }
  }

  private send(r: StepRecord, cut: boolean): void {
    const values: Record<string, number | null> = {};
    for (const [name, s] of r.inUpdate) {
      const outside = r.outside.get(name);
      if (s === null || this.tracks.get(name)?.unavailable) values[name] = null;
      else if (outside === undefined && cut && this.shrunkOutside.has(name)) values[name] = null;
      else values[name] = s + (outside ?? 0);
    }
    // Weights without a penalty that the script decays itself.
    for (const [name, outside] of r.outside) if (!r.inUpdate.has(name)) values[name] = outside;
    const unavailable = this.pendingUnavailable.size ? Object.fromEntries(this.pendingUnavailable) : undefined;
    this.pendingUnavailable.clear();
    const decoupled = r.outside.size ? Object.fromEntries(r.outside) : undefined;
    const appliers = this.pendingAppliers.size ? Object.fromEntries(this.pendingAppliers) : undefined;
    this.pendingAppliers.clear();
    if (Object.keys(values).length === 0 && !unavailable && !appliers) return;
    this.emit({
      objective: r.objective,
      step: r.step,
      values,
      ...(decoupled ? { decoupled } : {}),
      ...(appliers ? { appliers } : {}),
      ...(unavailable ? { unavailable } : {}),
    });
  }
}
