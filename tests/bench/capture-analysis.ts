/**
 * Turns captured loopback packets into protocol timings, identically for Switchboard and
 * baresip: both are identified only by what they put on the wire (From user, Call-ID, SDP).
 *
 * Registration: the first REGISTER from `user` to the PBX port after `startedAtMs`, and the first
 * 200 OK with the same Call-ID coming back (after any 401 challenge in between).
 * Call setup: the first INVITE from `user` to the PBX port after `startedAtMs` (before the 407
 * challenge), the 200 OK to that INVITE Call-ID, and the first RTP packet to / from the audio
 * address of the caller's SDP offer.
 */
import type { UdpDatagram } from './pcap-reader';
import { looksLikeRtp, sipMessageFacts, type SipMessageFacts } from './sip-message-facts';

interface SipPacket extends UdpDatagram {
  sip: SipMessageFacts;
}

export function sipPackets(datagrams: readonly UdpDatagram[]): SipPacket[] {
  const out: SipPacket[] = [];
  for (const d of datagrams) {
    const sip = sipMessageFacts(d.payload);
    if (sip) out.push({ ...d, sip });
  }
  return out;
}

export interface RegistrationTiming {
  /** start → 200 OK for the REGISTER (ms). */
  startToRegisteredMs: number;
  /** first REGISTER sent → its final 200 OK (ms), including the digest challenge round trip. */
  registerTo200Ms: number;
  /** 401/407 received → request with credentials sent: the phone's own reaction time (ms). */
  challengeToRetryMs?: number;
}

/** Time from the first 401/407 to `phone` in the dialog to the phone's next `method` request. */
function challengeToRetry(sip: readonly SipPacket[], first: SipPacket, method: string): number | undefined {
  const challenge = sip.find(
    (p) => p.timeMs >= first.timeMs && p.dst === first.src && p.dstPort === first.srcPort && (p.sip.status === 401 || p.sip.status === 407) && p.sip.callId === first.sip.callId,
  );
  if (!challenge) return undefined;
  const retry = sip.find((p) => p.timeMs >= challenge.timeMs && p !== first && p.sip.method === method && p.sip.callId === first.sip.callId && p.src === first.src && p.srcPort === first.srcPort);
  return retry ? retry.timeMs - challenge.timeMs : undefined;
}

export function registrationTiming(sip: readonly SipPacket[], user: string, pbxPort: number, startedAtMs: number): RegistrationTiming {
  const first = sip.find((p) => p.timeMs >= startedAtMs && p.dstPort === pbxPort && p.sip.method === 'REGISTER' && p.sip.fromUser === user);
  if (!first) throw new Error(`no REGISTER from ${user} captured after the start`);
  const ok = sip.find(
    (p) => p.timeMs >= first.timeMs && p.srcPort === pbxPort && p.sip.status === 200 && p.sip.cseqMethod === 'REGISTER' && p.sip.callId === first.sip.callId,
  );
  if (!ok) throw new Error(`no 200 OK captured for the REGISTER of ${user} (Call-ID ${first.sip.callId})`);
  return { startToRegisteredMs: ok.timeMs - startedAtMs, registerTo200Ms: ok.timeMs - first.timeMs, challengeToRetryMs: challengeToRetry(sip, first, 'REGISTER') };
}

export interface CallSetupTiming {
  inviteTo200Ms: number;
  /** first INVITE sent → first RTP packet the caller receives. */
  inviteToFirstRtpInMs: number;
  /** first INVITE sent → first RTP packet the caller sends. */
  inviteToFirstRtpOutMs: number;
  /** 407 received → INVITE with credentials sent (ms). */
  challengeToRetryMs?: number;
}

export function callSetupTiming(datagrams: readonly UdpDatagram[], sip: readonly SipPacket[], user: string, pbxPort: number, startedAtMs: number): CallSetupTiming {
  const invite = sip.find((p) => p.timeMs >= startedAtMs && p.dstPort === pbxPort && p.sip.method === 'INVITE' && p.sip.fromUser === user);
  if (!invite) throw new Error(`no INVITE from ${user} captured after the start`);
  const audio = invite.sip.audio;
  if (!audio) throw new Error(`the INVITE from ${user} carries no SDP audio offer (Call-ID ${invite.sip.callId})`);
  const ok = sip.find(
    (p) =>
      p.timeMs >= invite.timeMs &&
      p.srcPort === pbxPort &&
      p.dst === invite.src &&
      p.dstPort === invite.srcPort &&
      p.sip.status === 200 &&
      p.sip.cseqMethod === 'INVITE' &&
      p.sip.callId === invite.sip.callId,
  );
  if (!ok) throw new Error(`no 200 OK captured for the INVITE of ${user} (Call-ID ${invite.sip.callId})`);
  const rtpIn = datagrams.find((d) => d.timeMs >= invite.timeMs && d.dst === audio.address && d.dstPort === audio.port && looksLikeRtp(d.payload));
  if (!rtpIn) throw new Error(`no RTP captured towards ${user}'s ${audio.address}:${audio.port} (is the callee's RTP port range in the capture filter?)`);
  const rtpOut = datagrams.find((d) => d.timeMs >= invite.timeMs && d.src === audio.address && d.srcPort === audio.port && looksLikeRtp(d.payload));
  if (!rtpOut) throw new Error(`no RTP captured from ${user}'s ${audio.address}:${audio.port}`);
  return {
    inviteTo200Ms: ok.timeMs - invite.timeMs,
    inviteToFirstRtpInMs: rtpIn.timeMs - invite.timeMs,
    inviteToFirstRtpOutMs: rtpOut.timeMs - invite.timeMs,
    challengeToRetryMs: challengeToRetry(sip, invite, 'INVITE'),
  };
}
