/** A small seeded PRNG (mulberry32), so a failing randomized case can be replayed from its seed. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Values uniform in [-1, 1). */
  floats(size: number): Float32Array {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = this.next() * 2 - 1;
    return out;
  }
}

/** The base seed: TFJS_WASM_TRAINING_TEST_SEED replays a reported failure, else a fixed default. */
export function baseSeed(): number {
  const fromEnv = Number(process.env.TFJS_WASM_TRAINING_TEST_SEED);
  return Number.isFinite(fromEnv) && process.env.TFJS_WASM_TRAINING_TEST_SEED ? fromEnv : 20_261_122;
}
