import { describe, expect, it } from 'vitest';
import { SseParser, readTail, type TailItem, tailItem } from './sse';

describe('SseParser', () => {
  it('dispatches data events at blank lines', () => {
    const p = new SseParser();
    expect(p.feed('data: {"a":1}\n\ndata: {"b":2}\n\n')).toEqual([
      { type: 'event', event: 'message', data: '{"a":1}', id: undefined },
      { type: 'event', event: 'message', data: '{"b":2}', id: undefined },
    ]);
  });

  it('joins multi-line data and reads named events', () => {
    const p = new SseParser();
    expect(p.feed('event: skipped\ndata: {"count":\ndata: 3}\n\n')).toEqual([{ type: 'event', event: 'skipped', data: '{"count":\n3}', id: undefined }]);
  });

  it('reassembles lines split across chunks, with LF, CR and CRLF', () => {
    const p = new SseParser();
    const out = [...p.feed('da'), ...p.feed('ta: x\r'), ...p.feed('\n\r'), ...p.feed('\n'), ...p.feed('event: closed\rdata: {}\r\r')];
    expect(out).toEqual([
      { type: 'event', event: 'message', data: 'x', id: undefined },
      { type: 'event', event: 'closed', data: '{}', id: undefined },
    ]);
  });

  it('reports comments (heartbeats) and ignores events without data', () => {
    const p = new SseParser();
    expect(p.feed(':heartbeat\n\nevent: nothing\n\n')).toEqual([{ type: 'comment', text: 'heartbeat' }]);
  });

  it('keeps the last id and drops a BOM', () => {
    const p = new SseParser();
    expect(p.feed('\uFEFFid: 7\ndata: a\n\ndata: b\n\n')).toEqual([
      { type: 'event', event: 'message', data: 'a', id: '7' },
      { type: 'event', event: 'message', data: 'b', id: '7' },
    ]);
  });

  it('waits for the blank line before dispatching', () => {
    const p = new SseParser();
    expect(p.feed('data: partial\n')).toEqual([]);
    expect(p.feed('\n')).toHaveLength(1);
  });
});

describe('tailItem', () => {
  it('reads the live tail messages', () => {
    expect(tailItem({ type: 'event', event: 'message', data: '{"id":"1","message":"m"}' })).toEqual({ kind: 'record', record: { id: '1', message: 'm' } });
    expect(tailItem({ type: 'event', event: 'skipped', data: '{"count":12}' })).toEqual({ kind: 'skipped', count: 12 });
    expect(tailItem({ type: 'event', event: 'closed', data: '{"reason":"revoked"}' })).toEqual({ kind: 'closed', reason: 'revoked' });
    expect(tailItem({ type: 'comment', text: 'heartbeat' })).toEqual({ kind: 'heartbeat' });
    expect(tailItem({ type: 'event', event: 'message', data: 'not json' })).toEqual({ kind: 'invalid', raw: 'not json' });
  });
});

describe('readTail', () => {
  it('reads a byte stream split inside multi-byte characters', async () => {
    const bytes = new TextEncoder().encode('data: {"message":"用户登录失败"}\n\n:heartbeat\n\nevent: closed\ndata: {"reason":"bye"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.slice(i, i + 5));
        c.close();
      },
    });
    const items: TailItem[] = [];
    await readTail(body, (i) => items.push(i));
    expect(items).toEqual([{ kind: 'record', record: { message: '用户登录失败' } }, { kind: 'heartbeat' }, { kind: 'closed', reason: 'bye' }]);
  });
});
