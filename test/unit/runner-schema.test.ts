import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { RUNNER_PROTOCOL_VERSION, type InitCommandInput } from '../../src/shared/protocol/runner-protocol';
import { RUNNER_SCHEMA_FILE, runnerContractJsonSchema, runnerContractJsonText } from '../../src/shared/protocol/runner-schema';
import { FIXTURES } from '../helpers/events';

const ROOT = path.resolve(__dirname, '..', '..');
const committed = fs.readFileSync(path.join(ROOT, RUNNER_SCHEMA_FILE), 'utf8');

function validators() {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  // The schema's own keywords besides JSON Schema's: the contract's version.
  ajv.addKeyword('x-loss-lens-protocol');
  const schema = JSON.parse(committed);
  ajv.addSchema(schema);
  return {
    event: ajv.getSchema(schema.$id)!,
    init: ajv.getSchema(`${schema.$id}#/$defs/initCommand`)!,
  };
}

const streams = fs.readdirSync(path.join(FIXTURES, 'streams')).filter((f) => f.endsWith('.ndjson'));

describe('the runner contract as JSON Schema', () => {
  it('is current: the committed file is what the zod schemas generate (npm run build writes it)', () => {
    expect(committed).toBe(runnerContractJsonText());
    expect(runnerContractJsonSchema()['x-loss-lens-protocol']).toBe(RUNNER_PROTOCOL_VERSION);
    expect(RUNNER_SCHEMA_FILE).toBe('schema/runner-events.schema.json');
  });

  it('accepts every event of every recorded runner stream, as the runner wrote it', () => {
    const { event } = validators();
    expect(streams.length).toBeGreaterThan(5);
    let steps = 0;
    for (const file of streams) {
      const lines = fs.readFileSync(path.join(FIXTURES, 'streams', file), 'utf8').split('\n').filter((l) => l.trim());
      for (const line of lines) {
        const json = JSON.parse(line) as { type: string };
        if (json.type === 'step') steps++;
        expect(event(json), `${file}: ${line.slice(0, 120)} — ${JSON.stringify(event.errors?.slice(0, 3))}`).toBe(true);
      }
    }
    expect(steps).toBeGreaterThan(100);
  });

  it('describes the wire form: non-finite numbers as their names, never null, and nothing else in their place', () => {
    const { event } = validators();
    const nan = fs
      .readFileSync(path.join(FIXTURES, 'streams', 'nan-loss.ndjson'), 'utf8')
      .split('\n')
      .find((l) => /"totalLoss":"(NaN|Infinity|-Infinity)"/.test(l));
    expect(nan).toBeDefined();
    const step = JSON.parse(nan!);
    expect(event(step)).toBe(true);
    for (const bad of [null, 'nan', { evil: true }]) expect(event({ ...step, record: { ...step.record, totalLoss: bad } })).toBe(false);
    expect(event({ type: 'step' })).toBe(false);
    expect(event({ type: 'launch-missiles' })).toBe(false);
  });

  it('holds the init command the engine writes for the runner', () => {
    const { init } = validators();
    const command: InitCommandInput = {
      type: 'init',
      protocol: RUNNER_PROTOCOL_VERSION,
      scriptPath: '/ws/train.py',
      args: ['--epochs', '3'],
      workDir: '/tmp/loss-lens-x',
      channel: { path: '/tmp/loss-lens-x/channel', token: '0123456789abcdef0123456789abcdef' },
      hostPid: 42,
      transpiled: {},
      steps: 20,
      backend: 'auto',
      weightDecay: 'decoupled',
      cgroup: null,
    };
    expect(init(command), JSON.stringify(init.errors)).toBe(true);
    expect(init({ ...command, protocol: RUNNER_PROTOCOL_VERSION + 1 })).toBe(false);
    expect(init({ ...command, steps: 0 })).toBe(false);
  });
});
