// Splits a TCP/TLS byte stream into SIP messages (RFC 3261 18.3: Content-Length, in BYTES, is mandatory
// on streams) and recognises RFC 5626 3.5.1 keep-alives between messages:
//   CRLFCRLF ("ping") -> onPing (the owner answers with a CRLF "pong"), single CRLF ("pong") -> ignored.
// Handles any segmentation: messages split across chunks, several messages in one chunk.
// A stream that cannot be framed (bad Content-Length, oversized header) is unrecoverable: onError is
// called once and the framer stops; the owner closes the connection.

const CRLF = 0x0d0a;
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

export interface StreamFramerEvents {
  onMessage(message: Buffer): void;
  onPing(): void;
  onError(error: Error): void;
}

export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  /** Consecutive CRLFs seen since the last message; two make a ping. */
  private crlfRun = 0;
  private failed = false;

  constructor(private readonly events: StreamFramerEvents) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      // Keep-alive CRLFs only count between messages (leading position).
      while (this.buffer.length >= 2 && this.buffer.readUInt16BE(0) === CRLF) {
        this.buffer = this.buffer.subarray(2);
        this.crlfRun += 1;
        if (this.crlfRun === 2) {
          this.crlfRun = 0;
          this.events.onPing();
        }
      }
      if (this.buffer.length === 0 || (this.buffer.length === 1 && this.buffer[0] === 0x0d)) return;
      const headerEnd = this.buffer.indexOf(HEADER_END);
      if (headerEnd < 0) {
        if (this.buffer.length > MAX_HEADER_BYTES) this.fail(`SIP header section exceeds ${MAX_HEADER_BYTES} bytes`);
        return;
      }
      this.crlfRun = 0;
      const head = this.buffer.subarray(0, headerEnd).toString('latin1');
      const length = contentLength(head);
      if (typeof length === 'string') return this.fail(length);
      const total = headerEnd + 4 + length;
      if (this.buffer.length < total) return;
      const message = Buffer.from(this.buffer.subarray(0, total));
      this.buffer = this.buffer.subarray(total);
      this.events.onMessage(message);
      if (this.failed) return;
    }
  }

  private fail(reason: string): void {
    this.failed = true;
    this.buffer = Buffer.alloc(0);
    this.events.onError(new Error(`Cannot frame SIP stream: ${reason}`));
  }
}

/** Content-Length from a header block, 0 when absent; a string explains a malformed value. */
function contentLength(head: string): number | string {
  const m = head.match(/\r?\n(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)/i);
  if (!m) return 0;
  const raw = m[1]!.trim();
  if (!/^\d+$/.test(raw)) return `invalid Content-Length "${raw}"`;
  const n = Number(raw);
  if (n > MAX_BODY_BYTES) return `Content-Length ${n} exceeds ${MAX_BODY_BYTES} bytes`;
  return n;
}
