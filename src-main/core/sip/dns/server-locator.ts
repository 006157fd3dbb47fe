// RFC 3263 "Locating SIP Servers": turns a SIP URI into an ordered list of transport targets.
//
// Contract of locate(uri, protocol):
//  - IP literal host            -> that address, URI port or the default port.
//  - explicit port              -> A/AAAA of the host with that port (no NAPTR/SRV, RFC 3263 4.2).
//  - otherwise                  -> NAPTR (service for the protocol, ordered by order then preference)
//                                  -> SRV (_sip._udp / _sip._tcp / _sips._tcp when NAPTR gives nothing),
//                                     ordered by priority, weighted-random within a priority (RFC 2782)
//                                  -> A/AAAA of the host with the default port (5060, 5061 for TLS).
//  - The result is never empty: when nothing resolves the promise rejects with an Error naming the host.
//  - "No such record" answers (ENODATA/ENOTFOUND/ENOTIMP) move on to the next step; any other DNS
//    failure (timeout, refused) rejects, because silently skipping to A records would hide a broken
//    DNS setup behind a wrong port.
import { promises as dnsPromises } from 'node:dns';
import { isIP } from 'node:net';

export type SipTransportProtocol = 'udp' | 'tcp' | 'tls';

export interface ServerTarget {
  /** IP address to connect/send to. */
  host: string;
  port: number;
  protocol: SipTransportProtocol;
  /** DNS name the address came from (the URI host for IP literals); TLS verifies the URI host, not this. */
  name: string;
}

export interface ServerLocator {
  locate(uri: string, protocol: SipTransportProtocol): Promise<ServerTarget[]>;
}

export interface ParsedSipUri {
  scheme: 'sip' | 'sips';
  host: string;
  port?: number;
  /** The `transport` URI parameter, lower case, if present. */
  transport?: string;
}

/** Parses the host part of a sip:/sips: URI (name-addr brackets allowed); throws a specific error otherwise. */
export function parseSipUri(uri: string): ParsedSipUri {
  let text = uri.trim();
  const angle = text.match(/<([^>]*)>/);
  if (angle) text = angle[1]!;
  const m = text.match(/^(sips?):(?:[^@;?]*@)?(\[[0-9a-fA-F:.]+\]|[^:;?>]+)(?::(\d+))?([^?]*)/i);
  if (!m) throw new Error(`Not a SIP URI: "${uri}"`);
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  if (host === '') throw new Error(`SIP URI has no host: "${uri}"`);
  let port: number | undefined;
  if (m[3] !== undefined) {
    port = Number(m[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`SIP URI has an invalid port: "${uri}"`);
  }
  const params = m[4] ?? '';
  const transport = params.match(/;transport=([^;]+)/i)?.[1]?.toLowerCase();
  const result: ParsedSipUri = { scheme: m[1]!.toLowerCase() as 'sip' | 'sips', host };
  if (port !== undefined) result.port = port;
  if (transport !== undefined) result.transport = transport;
  return result;
}

export function defaultPort(protocol: SipTransportProtocol): number {
  return protocol === 'tls' ? 5061 : 5060;
}

const NAPTR_SERVICE: Record<SipTransportProtocol, string> = { udp: 'SIP+D2U', tcp: 'SIP+D2T', tls: 'SIPS+D2T' };
const SRV_PREFIX: Record<SipTransportProtocol, string> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.' };

/** Error codes node's resolver uses for "this name has no such record". */
const NO_RECORD_CODES = new Set(['ENODATA', 'ENOTFOUND', 'ENOTIMP', 'ENONAME', 'ENOTFOUND']);

interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** RFC 2782 ordering: ascending priority; within a priority, repeatedly pick by running weight sum. */
export function orderSrvRecords(records: SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) {
    const list = byPriority.get(r.priority) ?? [];
    list.push(r);
    byPriority.set(r.priority, list);
  }
  const out: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Zero-weight records first so they get a (small) chance, as RFC 2782 asks.
    const pool = byPriority.get(priority)!.sort((a, b) => a.weight - b.weight);
    while (pool.length > 0) {
      const total = pool.reduce((sum, r) => sum + r.weight, 0);
      const pick = random() * (total + 1);
      let running = 0;
      let index = pool.length - 1;
      for (let i = 0; i < pool.length; i++) {
        running += pool[i]!.weight;
        if (running >= pick) {
          index = i;
          break;
        }
      }
      out.push(pool.splice(index, 1)[0]!);
    }
  }
  return out;
}

export interface DnsServerLocatorOptions {
  /** DNS servers ("ip" or "ip:port"); default: the system's. */
  servers?: string[];
  /** Per-query timeout in ms (default 2000) and tries (default 2). */
  timeoutMs?: number;
  tries?: number;
  /** Random source for SRV weighting (tests make it deterministic). */
  random?: () => number;
}

/** RFC 3263 locator over node's DNS resolver. Stateless apart from the resolver; safe to share. */
export class DnsServerLocator implements ServerLocator {
  private readonly resolver: dnsPromises.Resolver;
  private readonly random: () => number;

  constructor(options: DnsServerLocatorOptions = {}) {
    this.resolver = new dnsPromises.Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
    if (options.servers) this.resolver.setServers(options.servers);
    this.random = options.random ?? Math.random;
  }

  async locate(uri: string, protocol: SipTransportProtocol): Promise<ServerTarget[]> {
    const parsed = parseSipUri(uri);
    const { host } = parsed;
    if (isIP(host) !== 0) {
      return [{ host, port: parsed.port ?? defaultPort(protocol), protocol, name: host }];
    }
    if (parsed.port !== undefined) {
      return this.requireTargets(await this.addresses(host, parsed.port, protocol), host, protocol);
    }
    const srvNames = await this.srvNamesFromNaptr(host, protocol);
    const srvRecords: SrvRecord[] = [];
    for (const srvName of srvNames.length > 0 ? srvNames : [SRV_PREFIX[protocol] + host]) {
      srvRecords.push(...(await this.query(() => this.resolver.resolveSrv(srvName), 'SRV', srvName)));
    }
    if (srvRecords.length > 0) {
      const targets: ServerTarget[] = [];
      for (const srv of orderSrvRecords(srvRecords, this.random)) {
        // "." as target means the service is decidedly not available at this domain (RFC 2782).
        if (srv.name === '' || srv.name === '.') continue;
        targets.push(...(await this.addresses(srv.name, srv.port, protocol)));
      }
      return this.requireTargets(targets, host, protocol);
    }
    return this.requireTargets(await this.addresses(host, defaultPort(protocol), protocol), host, protocol);
  }

  private async srvNamesFromNaptr(host: string, protocol: SipTransportProtocol): Promise<string[]> {
    const records = await this.query(() => this.resolver.resolveNaptr(host), 'NAPTR', host);
    return records
      .filter((r) => r.service.toUpperCase() === NAPTR_SERVICE[protocol] && r.flags.toLowerCase() === 's')
      .sort((a, b) => a.order - b.order || a.preference - b.preference)
      .map((r) => r.replacement)
      .filter((name) => name !== '' && name !== '.');
  }

  private async addresses(name: string, port: number, protocol: SipTransportProtocol): Promise<ServerTarget[]> {
    const v4 = await this.query(() => this.resolver.resolve4(name), 'A', name);
    const v6 = await this.query(() => this.resolver.resolve6(name), 'AAAA', name);
    return [...v4, ...v6].map((ip) => ({ host: ip, port, protocol, name }));
  }

  private async query<T>(run: () => Promise<T[]>, type: string, name: string): Promise<T[]> {
    try {
      return await run();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && NO_RECORD_CODES.has(code)) return [];
      throw new Error(`DNS ${type} lookup for ${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  private requireTargets(targets: ServerTarget[], host: string, protocol: SipTransportProtocol): ServerTarget[] {
    if (targets.length === 0) {
      throw new Error(`No SIP server found for ${host} over ${protocol}: no NAPTR, SRV, A or AAAA records`);
    }
    return targets;
  }
}
