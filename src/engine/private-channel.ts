import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { FrameDecoder, type FrameStats } from '../shared/protocol/telemetry-frame';
import { delay } from './delay';

/**
 * The host's end of the runner's telemetry channel, which the script cannot hit by accident: not a descriptor
 * at a number the script's own `fs` calls land on, but a FIFO in the run's private folder (mode 0700) that the
 * runner opens by path (close-on-exec, so the script's children never hold it), or a named pipe on Windows.
 * Frames carry a per-run token; anything else on the channel is skipped (see telemetry-frame.ts).
 */
export class PrivateChannel {
  readonly token = randomBytes(16).toString('hex');
  private readonly decoders = new Set<FrameDecoder>();
  private readonly totals: FrameStats = { frames: 0, garbageBytes: 0, brokenFrames: 0 };
  private tailBytes = 0;
  private readError: string | null = null;
  private readonly streamsDone: Array<Promise<void>> = [];
  private keepAliveFd: number | null = null;
  private server: net.Server | null = null;

  private constructor(
    readonly path: string,
    private readonly onFrame: (json: string) => void,
  ) {}

  /** Creates the channel in `dir` and starts reading; the runner connects by `path` with `token`. */
  static async open(dir: string, onFrame: (json: string) => void): Promise<PrivateChannel> {
    if (process.platform === 'win32') {
      const name = `\\\\.\\pipe\\loss-lens-${randomBytes(12).toString('hex')}`;
      const channel = new PrivateChannel(name, onFrame);
      await channel.listenNamedPipe();
      return channel;
    }
    const fifo = path.join(dir, 'channel');
    execFileSync('mkfifo', ['-m', '600', fifo], { stdio: 'ignore' });
    const channel = new PrivateChannel(fifo, onFrame);
    channel.readFifo();
    return channel;
  }

  private decoder(): FrameDecoder {
    const d = new FrameDecoder(this.token, (json) => this.onFrame(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8')));
    this.decoders.add(d);
    return d;
  }

  private readFifo(): void {
    // Non-blocking, so libuv polls it instead of parking a thread-pool thread on a read for the whole run.
    const fd = fs.openSync(this.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    // Our own writer keeps the FIFO open until the runner has exited: no EOF before the runner connects, and EOF
    // exactly when the last byte has been read after it is gone.
    this.keepAliveFd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    this.streamsDone.push(this.consume(new net.Socket({ fd, readable: true, writable: false })));
  }

  private listenNamedPipe(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer((socket) => this.streamsDone.push(this.consume(socket)));
      this.server = server;
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
  }

  private consume(stream: net.Socket): Promise<void> {
    const decoder = this.decoder();
    return new Promise((resolve) => {
      stream.on('data', (chunk: Buffer) => decoder.push(chunk));
      stream.on('error', (err) => {
        this.readError ??= err.message;
      });
      stream.on('close', () => {
        this.tailBytes += decoder.finish().tailBytes;
        this.add(decoder);
        resolve();
      });
    });
  }

  private add(d: FrameDecoder): void {
    if (!this.decoders.delete(d)) return;
    this.totals.frames += d.stats.frames;
    this.totals.garbageBytes += d.stats.garbageBytes;
    this.totals.brokenFrames += d.stats.brokenFrames;
  }

  /**
   * The runner exited: read what is still in the channel, then close it. Resolves when everything was read
   * or after `graceMs` (a descendant that reopened the FIFO by path must not hold the report hostage).
   */
  async drain(graceMs: number): Promise<void> {
    if (this.keepAliveFd !== null) {
      fs.closeSync(this.keepAliveFd);
      this.keepAliveFd = null;
    }
    const all = Promise.all(this.streamsDone).then(() => true);
    const done = await Promise.race([all, delay(graceMs).then(() => false)]);
    if (!done) this.readError ??= `it was still open ${graceMs} ms after the runner exited`;
    this.close();
  }

  close(): void {
    if (this.keepAliveFd !== null) {
      fs.closeSync(this.keepAliveFd);
      this.keepAliveFd = null;
    }
    this.server?.close();
    this.server = null;
    for (const d of [...this.decoders]) this.add(d);
  }

  /** What arrived: frames, foreign bytes and broken frames mid-stream, bytes left unframed at the very end. */
  stats(): FrameStats & { tailBytes: number; readError: string | null } {
    const live = [...this.decoders].reduce(
      (t, d) => ({ frames: t.frames + d.stats.frames, garbageBytes: t.garbageBytes + d.stats.garbageBytes, brokenFrames: t.brokenFrames + d.stats.brokenFrames }),
      { ...this.totals },
    );
    return { ...live, tailBytes: this.tailBytes, readError: this.readError };
  }
}
