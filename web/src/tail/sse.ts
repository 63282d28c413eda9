// Server-Sent Events read from a fetch() body. EventSource cannot send an Authorization
// header, so the live tail reads the stream itself; this is the event-stream format of the
// HTML standard: lines ending in LF, CR or CRLF (possibly split across chunks), `field: value`,
// comments starting with `:`, and an event dispatched at each blank line.

export type SseMessage =
  | { type: 'event'; event: string; data: string; id?: string }
  | { type: 'comment'; text: string };

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private lastId: string | undefined;
  /** The previous chunk ended in CR: a LF opening the next one belongs to it. */
  private pendingCr = false;
  private started = false;

  /** Feeds decoded text; returns the messages completed by it. */
  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (c === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
      this.line(line, out);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** The end of the stream: a last event without its blank line is dropped, as the standard says. */
  end(): SseMessage[] {
    this.buffer = '';
    this.event = '';
    this.data = [];
    return [];
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(':')) {
      out.push({ type: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      default:
        break; // `retry` and unknown fields: nothing to do for a fetch() reader
    }
  }

  private dispatch(out: SseMessage[]): void {
    if (this.id !== undefined) this.lastId = this.id;
    if (this.data.length > 0) {
      out.push({ type: 'event', event: this.event || 'message', data: this.data.join('\n'), id: this.lastId });
    }
    this.event = '';
    this.data = [];
    this.id = undefined;
  }
}

/** What the live tail's stream says, one message at a time. */
export type TailItem =
  | { kind: 'record'; record: Record<string, unknown> }
  | { kind: 'skipped'; count: number }
  | { kind: 'closed'; reason: string }
  | { kind: 'heartbeat' }
  | { kind: 'invalid'; raw: string };

export function tailItem(message: SseMessage): TailItem {
  if (message.type === 'comment') return { kind: 'heartbeat' };
  let value: unknown;
  try {
    value = JSON.parse(message.data);
  } catch {
    return { kind: 'invalid', raw: message.data };
  }
  const obj = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  switch (message.event) {
    case 'skipped':
      return { kind: 'skipped', count: Number(obj.count) || 0 };
    case 'closed':
      return { kind: 'closed', reason: typeof obj.reason === 'string' ? obj.reason : '' };
    case 'message':
      return value && typeof value === 'object' && !Array.isArray(value) ? { kind: 'record', record: obj } : { kind: 'invalid', raw: message.data };
    default:
      return { kind: 'invalid', raw: message.data };
  }
}

/** Reads an SSE body to its end (or until `signal` aborts), calling `onItem` for each message. */
export async function readTail(body: ReadableStream<Uint8Array>, onItem: (item: TailItem) => void, signal?: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const abort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const m of parser.feed(decoder.decode(value, { stream: true }))) onItem(tailItem(m));
    }
    for (const m of parser.feed(decoder.decode())) onItem(tailItem(m));
  } finally {
    signal?.removeEventListener('abort', abort);
    reader.releaseLock();
  }
}
