// Not imported by any runtime entry: the build (scripts/gen-schema.mjs) and a test call it. It imports zod's
// `toJSONSchema` directly, which the one door (zod.ts) keeps out of the bundles on purpose.
import { toJSONSchema } from 'zod';
import { initCommand, runnerEvent, RUNNER_PROTOCOL_VERSION } from './runner-protocol';

/** Where the build writes the runner contract, relative to the package root. Stable: other runners validate against it. */
export const RUNNER_SCHEMA_FILE = 'schema/runner-events.schema.json';

type JsonObject = Record<string, unknown>;

/**
 * The runner contract as JSON Schema (draft 2020-12), generated from the zod schemas the engine checks with: what a
 * runner in any language must write. It describes the wire form (zod's input side): a number that may be NaN or
 * ±Infinity is a JSON number or one of the strings "NaN", "Infinity", "-Infinity" (wire-number.ts).
 *
 * The root validates one event (one frame's JSON); `$defs.initCommand` is the init.json the runner is started with.
 */
export function runnerContractJsonSchema(): JsonObject {
  const convert = (schema: typeof runnerEvent | typeof initCommand): JsonObject => {
    const { $schema: _drop, ...rest } = toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'throw' }) as JsonObject;
    return rest;
  };
  const event = convert(runnerEvent);
  const init = convert(initCommand);
  if (event.$defs || init.$defs) throw new Error('runner contract: shared sub-schemas must stay inline (a nested $defs would need its $refs rewritten)');
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://loss-lens.invalid/schema/runner-events/v${RUNNER_PROTOCOL_VERSION}.json`,
    title: 'Loss Lens runner contract',
    description:
      'One event a runner writes on its private telemetry channel (the JSON of one frame: \\x1eLL<token>:<byte length>\\n<json>\\n, ' +
      'see src/shared/protocol/telemetry-frame.ts). Numbers that may be NaN or ±Infinity travel as JSON numbers or as the strings ' +
      '"NaN", "Infinity", "-Infinity". $defs.initCommand is the init.json the runner is started with (its path the one argument). ' +
      'Generated from the zod schemas in src/shared/protocol/runner-protocol.ts by the build; do not edit.',
    'x-loss-lens-protocol': RUNNER_PROTOCOL_VERSION,
    ...event,
    $defs: { initCommand: init },
  };
}

/** The file's text: what the build writes and the test compares. */
export function runnerContractJsonText(): string {
  return JSON.stringify(runnerContractJsonSchema(), null, 2) + '\n';
}
