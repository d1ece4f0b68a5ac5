import * as fs from 'node:fs';
import { toWireJson } from '../shared/protocol/wire-number';
import type { RunnerEventInput } from '../shared/protocol/runner-protocol';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Telemetry goes out with a synchronous write per event to a dedicated pipe.
 * `process.send` would queue behind a training loop that never yields, and
 * `process.exit` would drop that queue; a blocking write delivers every event.
 */
export class Telemetry {
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly onHostGone: () => void,
  ) {}

  send(event: RunnerEventInput): void {
    if (this.closed) return;
    const buf = Buffer.from(toWireJson(event) + '\n', 'utf8');
    let offset = 0;
    while (offset < buf.length) {
      try {
        offset += fs.writeSync(this.fd, buf, offset, buf.length - offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // The host is behind; wait for it instead of dropping the event.
          Atomics.wait(sleepCell, 0, 0, 2);
          continue;
        }
        this.closed = true;
        this.onHostGone();
        return;
      }
    }
  }
}
