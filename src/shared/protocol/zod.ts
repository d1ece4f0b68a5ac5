// The one door to zod. It imports named builders, not zod's `z` namespace: that namespace drags in
// every locale and the JSON-schema converters (751 KB of the extension's 864 KB bundle), which the
// extension host then parses at activation. Named imports let esbuild keep only what we use.
import {
  array,
  boolean,
  config,
  discriminatedUnion,
  enum as enumOf,
  literal,
  null as nullValue,
  number,
  object,
  record,
  string,
  tuple,
  union,
} from 'zod';
import type * as zod from 'zod';

// zod's JIT probe reads `globalThis.navigator`, and VS Code's extension host throws on that read
// (PendingMigrationError), which failed activation. Schemas are small: the interpreter is fast enough.
config({ jitless: true });

export const z = {
  array,
  boolean,
  discriminatedUnion,
  enum: enumOf,
  literal,
  null: nullValue,
  number,
  object,
  record,
  string,
  tuple,
  union,
};

// The types schemas are written against, under the same `z.` prefix as the builders.
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace z {
  type ZodType = zod.ZodType;
  type ZodError = zod.ZodError;
  type input<T> = zod.input<T>;
  type output<T> = zod.output<T>;
  type infer<T> = zod.infer<T>;
}
