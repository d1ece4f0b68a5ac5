import { z } from '../protocol/zod';

/**
 * Series columns packed for a hydrate: the float64 bytes as base64, plus a bitmap of the rows without a
 * value (null). A million-step run is then a handful of strings instead of millions of JSON numbers:
 * JSON moves strings at memcpy speed, the schema checks one string per column instead of one union per
 * value, and NaN/±Infinity need no names (they are just float64 bit patterns). Base64 rather than
 * transferable buffers because every leg the message travels is JSON: VS Code's postMessage from the
 * host's own encoder, the test harness, and the archive a restored panel is hydrated from.
 *
 * Byte order is the platform's (little-endian on every platform VS Code runs on).
 */
export const packedColumn = z.union([
  z.object({
    /** base64 of a Float64Array, one value per row (0 where the row has none). */
    f64: z.string(),
    /** base64 of a bitmap, bit i set when row i has no value; absent when every row has one. */
    nulls: z.string().optional(),
  }),
  /** An arithmetic sequence, every row a value: start + i·delta exactly (the step column). */
  z.object({ seq: z.tuple([z.number(), z.number()]) }),
  /** Runs of one value (a constant learning rate), every row a value: base64 Float64Array of values, Uint32Array of run lengths. */
  z.object({ runs: z.string(), lengths: z.string() }),
]);
export type PackedColumn = z.output<typeof packedColumn>;

interface Base64Codec {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
}

type WithBase64 = {
  Uint8Array: { fromBase64?: (s: string) => Uint8Array };
  Buffer?: { from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: 'base64'): string }; from(s: string, enc: 'base64'): Uint8Array };
  btoa?: (s: string) => string;
  atob?: (s: string) => string;
};

/** The fastest base64 the runtime has: the browser's built-in, Node's Buffer, else btoa/atob in chunks. */
function base64(): Base64Codec {
  const g = globalThis as unknown as WithBase64;
  const native = new Uint8Array(0) as Uint8Array & { toBase64?: () => string };
  const encode = (bytes: Uint8Array): string => {
    if (typeof (bytes as typeof native).toBase64 === 'function') return (bytes as typeof native).toBase64!();
    if (g.Buffer) return g.Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return g.btoa!(binary);
  };
  const decode = (text: string): Uint8Array => {
    if (typeof g.Uint8Array.fromBase64 === 'function') return g.Uint8Array.fromBase64(text);
    if (g.Buffer) return g.Buffer.from(text, 'base64');
    const binary = g.atob!(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  };
  return { encode, decode };
}

const b64 = base64();

/** Columns with fewer runs than this fraction of their rows are sent as runs. */
const RUNS_FRACTION = 1 / 16;

function asSequence(values: ReadonlyArray<number | null>): [number, number] | null {
  if (values.length === 0 || typeof values[0] !== 'number') return null;
  const start = values[0];
  const delta = values.length > 1 && typeof values[1] === 'number' ? values[1] - start : 0;
  if (!Number.isFinite(start) || !Number.isFinite(delta)) return null;
  for (let i = 0; i < values.length; i++) if (values[i] !== start + i * delta) return null;
  return [start, delta];
}

function asRuns(values: ReadonlyArray<number | null>): PackedColumn | null {
  const runValues: number[] = [];
  const lengths: number[] = [];
  const limit = Math.max(1, values.length * RUNS_FRACTION);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) return null;
    if (runValues.length && Object.is(runValues[runValues.length - 1], v)) lengths[lengths.length - 1]++;
    else {
      if (runValues.length >= limit) return null;
      runValues.push(v);
      lengths.push(1);
    }
  }
  return { runs: b64.encode(new Uint8Array(Float64Array.from(runValues).buffer)), lengths: b64.encode(new Uint8Array(Uint32Array.from(lengths).buffer)) };
}

export function packColumn(values: ReadonlyArray<number | null>): PackedColumn {
  const seq = asSequence(values);
  if (seq) return { seq };
  const runs = values.length >= 32 ? asRuns(values) : null;
  if (runs) return runs;
  const f64 = new Float64Array(values.length);
  let nulls: Uint8Array | null = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) {
      nulls ??= new Uint8Array((values.length + 7) >> 3);
      nulls[i >> 3] |= 1 << (i & 7);
    } else f64[i] = v;
  }
  const out: PackedColumn = { f64: b64.encode(new Uint8Array(f64.buffer)) };
  if (nulls) out.nulls = b64.encode(nulls);
  return out;
}

/** A typed view of decoded bytes; copied when the decoder's buffer is not aligned for it. */
function view<T extends Float64Array | Uint32Array>(bytes: Uint8Array, make: (b: ArrayBuffer, offset: number, length: number) => T, size: number): T | null {
  if (bytes.byteLength % size !== 0) return null;
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return make(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / size);
}

/** The values of a packed column as a plain array (appends push onto it), or null when it is malformed. */
export function unpackColumn(p: PackedColumn, length: number): Array<number | null> | null {
  // Filled by index into a preallocated array: about twice as fast as push, and several times faster than
  // Array.from on a typed array; reads from it are as fast as from a typed array.
  const out = new Array<number | null>(length);
  if ('seq' in p) {
    const [start, delta] = p.seq;
    for (let i = 0; i < length; i++) out[i] = start + i * delta;
    return out;
  }
  if ('runs' in p) {
    const values = view(b64.decode(p.runs), (b, o, n) => new Float64Array(b, o, n), 8);
    const lengths = view(b64.decode(p.lengths), (b, o, n) => new Uint32Array(b, o, n), 4);
    if (!values || !lengths || values.length !== lengths.length) return null;
    let i = 0;
    for (let r = 0; r < values.length; r++) {
      const end = i + lengths[r];
      if (end > length) return null;
      for (; i < end; i++) out[i] = values[r];
    }
    return i === length ? out : null;
  }
  const f64 = view(b64.decode(p.f64), (b, o, n) => new Float64Array(b, o, n), 8);
  if (!f64 || f64.length !== length) return null;
  if (p.nulls === undefined) {
    for (let i = 0; i < length; i++) out[i] = f64[i];
    return out;
  }
  const nulls = b64.decode(p.nulls);
  if (nulls.byteLength !== (length + 7) >> 3) return null;
  for (let i = 0; i < length; i++) out[i] = nulls[i >> 3] & (1 << (i & 7)) ? null : f64[i];
  return out;
}
