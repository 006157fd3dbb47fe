// Netstring framing ("<len>:<payload>,") as spoken by baresip's ctrl_tcp.
export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]);
}

/** Incremental decoder: push bytes, get complete payloads. Throws on malformed framing. */
export class NetstringDecoder {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) {
        if (this.buffer.length > 10) throw new Error(`netstring: no length prefix in ${JSON.stringify(this.buffer.subarray(0, 20).toString())}`);
        return out;
      }
      const lengthText = this.buffer.subarray(0, colon).toString('ascii');
      if (!/^\d+$/.test(lengthText)) throw new Error(`netstring: bad length ${JSON.stringify(lengthText)}`);
      const length = Number(lengthText);
      const end = colon + 1 + length;
      if (this.buffer.length < end + 1) return out;
      if (this.buffer[end] !== 0x2c) throw new Error('netstring: missing trailing comma');
      out.push(this.buffer.subarray(colon + 1, end).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 1);
    }
  }
}
