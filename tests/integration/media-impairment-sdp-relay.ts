/**
 * Test helper (not a test file): puts the impairing relay into the media path of a direct call
 * WITHOUT either phone knowing, the way a media proxy (rtpproxy behind a B2BUA) does.
 *
 *   headless ──SIP──▶ sipRelay ──SIP──▶ baresip          (responses come back the same way: rport)
 *   baresip ──RTP──▶ rtpRelay.front ──(impaired)──▶ headless RTP port
 *   baresip ◀──RTP── rtpRelay.front ◀─(impaired)── headless (after it latched onto the relay)
 *
 * How: the headless dials sip:bob@127.0.0.1:<sipRelay.port>. For the INVITE's SDP offer the relay
 * starts an impairing relay whose target is the offered RTP port and rewrites `m=audio <port>` to
 * the relay's port (plus `a=rtcp:` pointing to an unimpaired relay for port+1, so RTCP also works
 * both ways); Content-Length is fixed. baresip therefore sends its RTP to the relay; the relay
 * forwards from its own socket, so our symmetric-RTP latching (rtp-stream-socket.ts) makes our
 * RTP go back through the relay too: both directions are impaired. Our first few packets, sent
 * before the first packet from the relay arrived, go straight to baresip's SDP address.
 * Everything else (answers, ACK, BYE) passes unchanged.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { startImpairingRelay, type ImpairingRelay, type ImpairmentOptions } from '../harness/network';

export interface SdpRewritingRelay {
  /** SIP port to dial: sip:<user>@127.0.0.1:<port>. */
  port: number;
  /** The impairing RTP relay, once an INVITE with SDP passed (undefined before). */
  rtp(): ImpairingRelay | undefined;
  stop(): Promise<void>;
}

function bind(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

export async function startSdpRewritingRelay(options: { sipTarget: { host: string; port: number }; impairment: ImpairmentOptions }): Promise<SdpRewritingRelay> {
  const front = await bind(); // faces the headless
  const upstream = await bind(); // faces baresip
  let client: RemoteInfo | undefined;
  let rtpRelay: ImpairingRelay | undefined;
  let rtcpRelay: ImpairingRelay | undefined;
  let relaysFor: Promise<void> | undefined;
  const fail = (where: string, error: unknown) => console.error(`[media-impairment relay] ${where}: ${(error as Error).message ?? String(error)}`);
  front.on('error', (e) => fail('front socket', e));
  upstream.on('error', (e) => fail('upstream socket', e));

  const rewrite = async (text: string): Promise<string> => {
    const split = text.indexOf('\r\n\r\n');
    if (!/^INVITE /.test(text) || split < 0) return text;
    let body = text.slice(split + 4);
    const m = /^m=audio (\d+) /m.exec(body);
    if (!m) return text;
    const ourPort = Number(m[1]);
    relaysFor ??= (async () => {
      rtpRelay = await startImpairingRelay({ target: { host: '127.0.0.1', port: ourPort }, ...options.impairment });
      rtcpRelay = await startImpairingRelay({ target: { host: '127.0.0.1', port: ourPort + 1 } });
    })();
    await relaysFor;
    body = body.replace(/^m=audio \d+ (.*)$/m, (_line, rest: string) => `m=audio ${rtpRelay!.port} ${rest}\r\na=rtcp:${rtcpRelay!.port}`);
    const head = text.slice(0, split).replace(/^(Content-Length|l)\s*:\s*\d+/im, (_h, name: string) => `${name}: ${Buffer.byteLength(body)}`);
    return `${head}\r\n\r\n${body}`;
  };

  front.on('message', (data, rinfo) => {
    client = rinfo;
    rewrite(data.toString('utf8'))
      .then((text) => upstream.send(Buffer.from(text, 'utf8'), options.sipTarget.port, options.sipTarget.host))
      .catch((error: unknown) => fail('rewriting a request', error));
  });
  upstream.on('message', (data) => {
    if (client) front.send(data, client.port, client.address);
  });

  return {
    port: front.address().port,
    rtp: () => rtpRelay,
    async stop() {
      await Promise.all([rtpRelay?.stop(), rtcpRelay?.stop()]);
      await Promise.all([new Promise<void>((r) => front.close(() => r())), new Promise<void>((r) => upstream.close(() => r()))]);
    },
  };
}
