import * as fs from 'node:fs';
import { frameHeader } from '../shared/protocol/telemetry-frame';
import type { RunnerEventInput } from '../shared/protocol/runner-protocol';

// Everything the channel writes with, taken when the runner loads, before any user code: a script that replaces
// `fs.writeSync`, `JSON.stringify` or `Buffer.from` (to log, to mock, or to forge) then changes its own calls,
// never the events. Node's own fs and Buffer internals use their primordials, so they are safe behind these.
const apply = Reflect.apply;
const { openSync, writeSync, fstatSync } = fs;
const { O_WRONLY, O_NONBLOCK } = fs.constants;
const stringify = JSON.stringify;
const bufferFrom = Buffer.from;
const bufferConcat = Buffer.concat;
const atomicsWait = Atomics.wait;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** JSON with non-finite numbers as their names ("NaN"), as toWireJson, with operators only (no global to replace). */
function wireReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && value - value !== 0 ? `${value}` : value;
}

const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const defineProperty = Object.defineProperty;
const PROTOTYPES = [Object.prototype, Array.prototype];

/**
 * JSON.stringify honours a `toJSON` on the prototypes of the event's objects: one the script put on
 * Object.prototype or Array.prototype would rewrite every event. Set aside while an event is encoded.
 */
function stringifyEvent(event: RunnerEventInput): string {
  const setAside: Array<[object, PropertyDescriptor]> = [];
  for (const proto of PROTOTYPES) {
    const d: PropertyDescriptor | undefined = apply(getOwnPropertyDescriptor, Object, [proto, 'toJSON']);
    if (d?.configurable && delete (proto as { toJSON?: unknown }).toJSON) setAside.push([proto, d]);
  }
  try {
    return apply(stringify, JSON, [event, wireReplacer]);
  } finally {
    for (const [proto, d] of setAside) apply(defineProperty, Object, [proto, 'toJSON', d]);
  }
}

function encode(event: RunnerEventInput, token: string): Buffer {
  const json = stringifyEvent(event);
  const body: Buffer = apply(bufferFrom, Buffer, [json + '\n', 'utf8']);
  return apply(bufferConcat, Buffer, [[apply(bufferFrom, Buffer, [frameHeader(token, body.length - 1), 'latin1']), body]]);
}

/**
 * Telemetry goes out as one framed, synchronous write per event on the run's private channel (a FIFO opened
 * by path). `process.send` would queue behind a training loop that never yields, and `process.exit` would
 * drop that queue; a blocking write delivers every event, even from `while (true)`.
 *
 * The descriptor is opened close-on-exec, so the script's children never hold it. If the script closes it
 * and the number is reused for one of its own files, the identity check before each write notices, and the
 * channel is opened again by path: our events never land in the user's file.
 */
export class Telemetry {
  private fd: number;
  private identity: { dev: bigint; ino: bigint };
  private closed = false;

  constructor(
    private readonly channelPath: string,
    private readonly token: string,
    private readonly onHostGone: () => void,
  ) {
    this.fd = openSync(channelPath, O_WRONLY);
    this.identity = identityOf(this.fd)!;
  }

  send(event: RunnerEventInput): void {
    if (this.closed) return;
    const buf = encode(event, this.token);
    this.ensureOurs();
    let offset = 0;
    let reopened = 0;
    while (offset < buf.length) {
      try {
        offset += writeSync(this.fd, buf, offset, buf.length - offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // The host is behind; wait for it instead of dropping the event.
          apply(atomicsWait, Atomics, [sleepCell, 0, 0, 2]);
          continue;
        }
        if ((code === 'EBADF' || code === 'EINVAL') && reopened++ < 3 && this.reopen()) continue;
        this.closed = true;
        this.onHostGone();
        return;
      }
    }
  }

  /** The descriptor still is the channel (same device and inode); else open the channel again by path. */
  private ensureOurs(): void {
    const now = identityOf(this.fd);
    if (now && now.dev === this.identity.dev && now.ino === this.identity.ino) return;
    this.reopen();
  }

  private reopen(): boolean {
    try {
      // The old number now belongs to the script (or to nothing): never close it. Non-blocking, so a channel
      // whose reader is gone (ENXIO) says so instead of waiting forever for one.
      this.fd = openSync(this.channelPath, O_WRONLY | O_NONBLOCK);
      this.identity = identityOf(this.fd)!;
      return true;
    } catch {
      return false;
    }
  }
}

function identityOf(fd: number): { dev: bigint; ino: bigint } | null {
  try {
    // BigInt stats on purpose: a plain fstat of a FIFO leaves Node's shared stat buffer saying "FIFO", and Node's
    // cached realpath reads that stale buffer and stops early, so require() of a symlinked package would load it
    // from the link's path (a second copy) instead of its real path.
    const s = fstatSync(fd, { bigint: true });
    return { dev: s.dev, ino: s.ino };
  } catch {
    return null;
  }
}
