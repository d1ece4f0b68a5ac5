import { describe, expect, it } from 'vitest';
import { FrameDecoder, frameHeader, MAX_FRAME_BYTES } from '../../src/shared/protocol/telemetry-frame';

const TOKEN = '0123456789abcdef0123456789abcdef';
const bytes = (s: string) => Buffer.from(s, 'utf8');
const frame = (json: string, token = TOKEN) => frameHeader(token, Buffer.byteLength(json)) + json + '\n';

function decode(chunks: Array<string | Uint8Array>) {
  const out: string[] = [];
  const d = new FrameDecoder(TOKEN, (json) => out.push(Buffer.from(json).toString('utf8')));
  for (const c of chunks) d.push(typeof c === 'string' ? bytes(c) : c);
  return { out, stats: d.stats, tail: d.finish(), decoder: d };
}

describe('telemetry frames', () => {
  it('round-trips frames, multi-byte text included, however the bytes are split', () => {
    const stream = frame('{"a":1}') + frame('{"name":"dense_Dénse·1 ✓"}') + frame('{}');
    const all = bytes(stream);
    for (let cut = 0; cut <= all.length; cut++) {
      const { out, stats } = decode([all.subarray(0, cut), all.subarray(cut)]);
      expect(out).toEqual(['{"a":1}', '{"name":"dense_Dénse·1 ✓"}', '{}']);
      expect(stats.garbageBytes).toBe(0);
    }
    // One byte at a time.
    expect(decode([...all].map((b) => Uint8Array.of(b))).out).toHaveLength(3);
  });

  it('skips what the script wrote, partial JSON lines and forged frames included, and resynchronises', () => {
    const garbage = [
      '{"type":"end","reason":"completed","exitCode":0,"exitSource":null}\n{"type":"layers","lay',
      frame('{"forged":true}', 'f'.repeat(32)),
      '\x1eLL',
      '\x1eLL' + TOKEN + ':abc\n',
      '\x1eLL' + TOKEN + ':99999999999\n',
    ];
    const { out, stats } = decode([frame('{"n":1}'), ...garbage, frame('{"n":2}')]);
    expect(out).toEqual(['{"n":1}', '{"n":2}']);
    expect(stats.garbageBytes).toBe(garbage.join('').length);
  });

  it('drops a frame with foreign bytes inside and keeps the frame that follows', () => {
    const first = frame('{"big":"' + 'x'.repeat(100) + '"}');
    // Someone else's write lands in the middle of our frame; our next frame starts right after.
    const corrupted = first.slice(0, 60) + 'STRAY' + first.slice(60);
    const { out, stats } = decode([corrupted + frame('{"n":2}')]);
    expect(out).toEqual(['{"n":2}']);
    expect(stats.brokenFrames).toBe(1);
  });

  it('detects a frame cut short by a length that does not match', () => {
    const whole = frame('{"n":1}');
    const wrongLength = whole.replace(':7\n', ':5\n');
    const { out, stats } = decode([wrongLength + frame('{"n":2}')]);
    expect(out).toEqual(['{"n":2}']);
    expect(stats.brokenFrames).toBe(1);
  });

  it('reports a frame cut at the very end apart from mid-stream damage', () => {
    const whole = frame('{"n":1}');
    const { out, stats, tail } = decode([frame('{"n":0}') + whole.slice(0, whole.length - 3)]);
    expect(out).toEqual(['{"n":0}']);
    expect(stats.brokenFrames).toBe(0);
    expect(tail).toEqual({ tailBytes: whole.length - 3, cutFrame: true });
  });

  it('holds nothing while 64 MiB without a frame or a newline goes by, then reads the next frame', () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x78);
    const d = new FrameDecoder(TOKEN, (json) => out.push(Buffer.from(json).toString()));
    const out: string[] = [];
    let maxBuffered = 0;
    for (let i = 0; i < 1024; i++) {
      d.push(chunk);
      maxBuffered = Math.max(maxBuffered, d.buffered);
    }
    d.push(bytes(frame('{"after":"flood"}')));
    expect(out).toEqual(['{"after":"flood"}']);
    expect(maxBuffered).toBe(0);
    expect(d.stats.garbageBytes).toBe(64 * 1024 * 1024);
  });

  it('refuses a header claiming more than a frame may hold', () => {
    const { out } = decode(['\x1eLL' + TOKEN + ':' + (MAX_FRAME_BYTES + 1) + '\n', frame('{"n":1}')]);
    expect(out).toEqual(['{"n":1}']);
  });
});
