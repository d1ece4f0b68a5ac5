import { z } from './zod';

/**
 * JSON has no NaN or Infinity, and a loss that goes NaN is exactly what we must not lose.
 * On the wire (and in the JSON report) non-finite numbers travel as the strings
 * "NaN", "Infinity" and "-Infinity"; in memory they are plain numbers again.
 */
export const NON_FINITE_STRINGS = ['NaN', 'Infinity', '-Infinity'] as const;

export const wireNumber = z
  .union([z.number(), z.enum(NON_FINITE_STRINGS)])
  .transform((v): number => (typeof v === 'number' ? v : Number(v)));

/** A JSON.stringify replacer that keeps non-finite numbers as their names. */
export function nonFiniteReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

export function toWireJson(value: unknown, space?: number): string {
  return JSON.stringify(value, nonFiniteReplacer, space);
}

/**
 * The wire form of a value without going through a string: non-finite numbers become their names, everything else
 * is kept. Copy-on-write: an object or array with nothing to change is returned as it is (no allocation), so a
 * message of finite numbers costs one walk, not a JSON.stringify and a JSON.parse.
 */
export function encodeNonFinite(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const e = encodeNonFinite(v);
      if (e !== v) (out ??= value.slice())[i] = e;
    }
    return out ?? value;
  }
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    const e = encodeNonFinite(v);
    if (e !== v) (out ??= { ...(value as Record<string, unknown>) })[key] = e;
  }
  return out ?? value;
}
