import type { Series } from '../model/run-state';
import { z } from '../protocol/zod';
import { packColumn, packedColumn, unpackColumn, type PackedColumn } from './column-codec';

/**
 * A whole Series with every column packed (column-codec.ts): what a hydrate carries. The schema checks
 * the shape and every column's length, and unpacks to a plain Series, so the webview folds later appends
 * into it exactly as into any other.
 */
const FIXED = ['step', 'totalLoss', 'dataLoss', 'regularizationLoss', 'learningRate', 'wallMs'] as const;

export const packedSeries = z
  .object({
    packed: z.literal(1),
    length: z.number().int().nonnegative(),
    columns: z.object(Object.fromEntries(FIXED.map((k) => [k, packedColumn])) as Record<(typeof FIXED)[number], typeof packedColumn>),
    terms: z.record(z.string(), packedColumn),
    weightNorms: z.record(z.string(), packedColumn),
    termInLossSteps: z.record(z.string(), z.number().int()),
    /** The effective decay's own columns (its step column may be shorter than the series'). */
    decay: z
      .object({
        length: z.number().int().nonnegative(),
        step: packedColumn,
        values: z.record(z.string(), packedColumn),
        decoupled: z.record(z.string(), packedColumn).optional(),
      })
      .optional(),
  })
  .transform((p, ctx): Series => {
    const unpack = (c: PackedColumn, path: string[], nullable: boolean, length = p.length): Array<number | null> => {
      const values = unpackColumn(c, length);
      if (!values || (!nullable && 'nulls' in c && c.nulls !== undefined)) {
        ctx.issues.push({ code: 'custom', message: `column does not hold ${length} ${nullable ? '' : 'non-null '}values`, path, input: c });
        return [];
      }
      return values;
    };
    const keyed = (cols: Record<string, PackedColumn>, name: string) =>
      Object.fromEntries(Object.entries(cols).map(([k, c]) => [k, unpack(c, [name, k], true)]));
    const fixed = (k: (typeof FIXED)[number]) => unpack(p.columns[k], ['columns', k], k === 'learningRate');
    return {
      step: fixed('step') as number[],
      totalLoss: fixed('totalLoss') as number[],
      dataLoss: fixed('dataLoss') as number[],
      regularizationLoss: fixed('regularizationLoss') as number[],
      learningRate: fixed('learningRate'),
      wallMs: fixed('wallMs') as number[],
      terms: keyed(p.terms, 'terms'),
      weightNorms: keyed(p.weightNorms, 'weightNorms'),
      termInLossSteps: p.termInLossSteps,
      decay: p.decay
        ? {
            step: unpack(p.decay.step, ['decay', 'step'], false, p.decay.length) as number[],
            values: Object.fromEntries(Object.entries(p.decay.values).map(([k, c]) => [k, unpack(c, ['decay', 'values', k], true, p.decay!.length)])),
            decoupled: Object.fromEntries(Object.entries(p.decay.decoupled ?? {}).map(([k, c]) => [k, unpack(c, ['decay', 'decoupled', k], true, p.decay!.length)])),
          }
        : { step: [], values: {}, decoupled: {} },
    };
  });
export type PackedSeries = z.input<typeof packedSeries>;

const packAll = (cols: Record<string, Array<number | null>>) => Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, packColumn(v)]));

export function packSeries(s: Series): PackedSeries {
  return {
    packed: 1,
    length: s.step.length,
    columns: Object.fromEntries(FIXED.map((k) => [k, packColumn(s[k])])) as PackedSeries['columns'],
    terms: packAll(s.terms),
    weightNorms: packAll(s.weightNorms),
    termInLossSteps: s.termInLossSteps,
    ...(s.decay?.step.length ? {
          decay: {
            length: s.decay.step.length,
            step: packColumn(s.decay.step),
            values: packAll(s.decay.values),
            ...(Object.keys(s.decay.decoupled ?? {}).length ? { decoupled: packAll(s.decay.decoupled) } : {}),
          },
        } : {}),
  };
}
