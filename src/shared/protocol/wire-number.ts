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
