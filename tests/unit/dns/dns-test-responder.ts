// A tiny authoritative DNS responder on 127.0.0.1:<random> for RFC 3263 tests.
// Answers A, AAAA, SRV and NAPTR from an in-memory zone; NXDOMAIN for unknown names, an empty
// NOERROR answer (node: ENODATA) for known names without that type. Logs every query it gets.
import dgram from 'node:dgram';
import net from 'node:net';

export type DnsRecord =
  | { type: 'A'; name: string; address: string }
  | { type: 'AAAA'; name: string; address: string }
  | { type: 'SRV'; name: string; priority: number; weight: number; port: number; target: string }
  | { type: 'NAPTR'; name: string; order: number; preference: number; flags: string; service: string; regexp: string; replacement: string };

const TYPE_CODES: Record<DnsRecord['type'], number> = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 };
const CODE_TYPES = new Map(Object.entries(TYPE_CODES).map(([k, v]) => [v, k]));

export interface DnsTestResponder {
  /** "127.0.0.1:port" for Resolver.setServers. */
  server: string;
  queries: string[];
  close(): Promise<void>;
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

function charString(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'ascii')]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function rdata(r: DnsRecord): Buffer {
  switch (r.type) {
    case 'A':
      return Buffer.from(r.address.split('.').map(Number));
    case 'AAAA': {
      const full = new net.SocketAddress({ address: r.address, family: 'ipv6' }).address;
      const groups = expandIPv6(full);
      return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
    }
    case 'SRV':
      return Buffer.concat([u16(r.priority), u16(r.weight), u16(r.port), encodeName(r.target)]);
    case 'NAPTR':
      return Buffer.concat([u16(r.order), u16(r.preference), charString(r.flags), charString(r.service), charString(r.regexp), encodeName(r.replacement)]);
  }
}

function expandIPv6(address: string): string[] {
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const fill = tail !== undefined ? new Array(8 - h.length - t.length).fill('0') : [];
  return [...h, ...fill, ...t];
}

function parseQuestion(msg: Buffer): { name: string; type: number; end: number } {
  let offset = 12;
  const labels: string[] = [];
  while (msg[offset]! !== 0) {
    const len = msg[offset]!;
    labels.push(msg.subarray(offset + 1, offset + 1 + len).toString('ascii'));
    offset += 1 + len;
  }
  offset += 1;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(offset), end: offset + 4 };
}

export async function startDnsResponder(records: DnsRecord[]): Promise<DnsTestResponder> {
  const socket = dgram.createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const q = parseQuestion(msg);
    const typeName = CODE_TYPES.get(q.type) ?? String(q.type);
    queries.push(`${typeName} ${q.name}`);
    const known = records.some((r) => r.name.toLowerCase() === q.name);
    const answers = records.filter((r) => r.name.toLowerCase() === q.name && TYPE_CODES[r.type] === q.type);
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2); // QR AA RD RA rcode
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((r) => {
      const data = rdata(r);
      return Buffer.concat([encodeName(r.name), u16(TYPE_CODES[r.type]), u16(1), Buffer.from([0, 0, 0, 60]), u16(data.length), data]);
    });
    socket.send(Buffer.concat([header, msg.subarray(12, q.end), ...rrs]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
