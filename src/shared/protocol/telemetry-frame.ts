/**
 * Frames on the runner's private telemetry channel: `\x1eLL<token>:<length>\n<json>\n`.
 *
 * The token is random per run and never leaves the host and the runner, and the JSON of an event can never
 * hold a raw 0x1e (JSON.stringify escapes every control character), so anything else that lands on the
 * channel is garbage the decoder skips: it resynchronises on the next token. The decoder looks at each byte
 * a bounded number of times, so a flood without a single frame costs linear time and constant memory.
 */

const RS = 0x1e;
const NL = 0x0a;
/** Larger than any event we write (a 1,000-layer graph is a few MB); a header claiming more is garbage. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;
const MAX_LENGTH_DIGITS = 10;

export function frameHeader(token: string, byteLength: number): string {
  return `\x1eLL${token}:${byteLength}\n`;
}

/** A token that is safe in a header: 32 hex characters. */
export function isFrameToken(token: string): boolean {
  return /^[0-9a-f]{32}$/.test(token);
}

export interface FrameStats {
  frames: number;
  /** Bytes outside any valid frame: what someone else wrote on the channel. */
  garbageBytes: number;
  /** Frames that started but were cut (a writer died mid-write) or had foreign bytes inside. */
  brokenFrames: number;
}

export class FrameDecoder {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  /** Inside a frame whose header is parsed: where its payload starts, ends, and how far it was checked. */
  private payloadStart = -1;
  private payloadEnd = -1;
  private checked = -1;
  private readonly prefix: Uint8Array;
  readonly stats: FrameStats = { frames: 0, garbageBytes: 0, brokenFrames: 0 };

  constructor(
    token: string,
    /** The frame's JSON as UTF-8 bytes (a view: copy or decode it before returning). */
    private readonly onFrame: (json: Uint8Array) => void,
  ) {
    if (!isFrameToken(token)) throw new Error('a frame token is 32 hex characters');
    const prefix = `\x1eLL${token}:`;
    this.prefix = Uint8Array.from(prefix, (c) => c.charCodeAt(0));
  }

  /** Bytes held while waiting for the rest of a frame (a flood without frames keeps this near zero). */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    this.append(chunk);
    this.drain();
  }

  /**
   * The stream ended: whatever is left is a frame cut short (its writer was killed mid-write) or garbage.
   * Returned apart from `stats`, because a frame cut by the host's own kill is expected.
   */
  finish(): { tailBytes: number; cutFrame: boolean } {
    const tail = { tailBytes: this.end - this.start, cutFrame: this.payloadStart >= 0 };
    this.start = this.end = 0;
    this.resetFrame();
    return tail;
  }

  private resetFrame(): void {
    this.payloadStart = this.payloadEnd = this.checked = -1;
  }

  private append(chunk: Uint8Array): void {
    const unread = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      if (unread + chunk.length <= this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(this.buf.length * 2, (unread + chunk.length) * 2));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.shift(this.start);
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Moves every index back by `by` after the unread bytes moved to the front. */
  private shift(by: number): void {
    this.start -= by;
    this.end -= by;
    if (this.payloadStart >= 0) {
      this.payloadStart -= by;
      this.payloadEnd -= by;
      this.checked -= by;
    }
  }

  /** Skip to the next record separator after `from`, counting what is skipped as garbage. */
  private resync(from: number, broken: boolean): void {
    if (broken) this.stats.brokenFrames++;
    this.resetFrame();
    const next = this.buf.subarray(0, this.end).indexOf(RS, from);
    const to = next < 0 ? this.end : next;
    this.stats.garbageBytes += to - this.start;
    this.start = to;
    if (this.start === this.end) this.start = this.end = 0;
  }

  private drain(): void {
    for (;;) {
      if (this.payloadStart >= 0) {
        if (!this.continueFrame()) return;
        continue;
      }
      if (this.start >= this.end) {
        this.start = this.end = 0;
        return;
      }
      if (this.buf[this.start] !== RS) {
        this.resync(this.start, false);
        continue;
      }
      // A header: the prefix, up to ten digits, a newline.
      const available = this.end - this.start;
      const p = this.prefix;
      const prefixSeen = Math.min(available, p.length);
      let i = 1;
      while (i < prefixSeen && this.buf[this.start + i] === p[i]) i++;
      if (i < prefixSeen) {
        this.resync(this.start + 1, false);
        continue;
      }
      if (available < p.length + 1) return;
      const digitsAt = this.start + p.length;
      let length = 0;
      let j = digitsAt;
      while (j < this.end && j - digitsAt <= MAX_LENGTH_DIGITS && this.buf[j] >= 0x30 && this.buf[j] <= 0x39) {
        length = length * 10 + (this.buf[j++] - 0x30);
      }
      const digits = j - digitsAt;
      if (j === this.end && digits <= MAX_LENGTH_DIGITS) return; // the length is still coming
      if (digits === 0 || digits > MAX_LENGTH_DIGITS || this.buf[j] !== NL || length > MAX_FRAME_BYTES) {
        this.resync(this.start + 1, false);
        continue;
      }
      this.payloadStart = j + 1;
      this.payloadEnd = this.payloadStart + length;
      this.checked = this.payloadStart;
    }
  }

  /** True when the current frame was completed or abandoned; false when it needs more bytes. */
  private continueFrame(): boolean {
    const until = Math.min(this.end, this.payloadEnd + 1);
    // A separator inside the payload means foreign bytes got in: the frame is lost, the next one may not be.
    const rs = this.buf.subarray(0, until).indexOf(RS, this.checked);
    if (rs >= 0) {
      this.resync(rs, true);
      return true;
    }
    this.checked = until;
    if (this.end <= this.payloadEnd) return false;
    if (this.buf[this.payloadEnd] !== NL) {
      this.resync(this.payloadEnd, true);
      return true;
    }
    const json = this.buf.subarray(this.payloadStart, this.payloadEnd);
    this.start = this.payloadEnd + 1;
    this.resetFrame();
    this.stats.frames++;
    this.onFrame(json);
    return true;
  }
}
