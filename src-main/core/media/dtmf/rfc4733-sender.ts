/**
 * Builds the RTP packet sequence that sends one DTMF digit as RFC 4733 telephone-events.
 *
 * Sequence (all packets carry the SAME RTP timestamp, the event start):
 * - first packet: marker bit set, sent at offset 0;
 * - updates every `intervalMs` (default 50 ms), duration growing; each update's duration covers the
 *   time until the next update (so the first reports one interval), capped at the digit's duration;
 * - at the end: three identical packets with the E bit and the final duration (RFC 4733 §2.5.1.4
 *   retransmission of the end packet), sent back to back at the end offset.
 * The caller assigns consecutive RTP sequence numbers in order and sends each packet at `sendAtMs`
 * after the first; audio packets of the same SSRC are suppressed meanwhile, and the next audio
 * packet after the digit uses a timestamp past the event (start + duration).
 */
import type { DtmfDigit } from './dtmf-digit';
import { dtmfEventCode } from './dtmf-digit';
import { encodeTelephoneEvent, MAX_EVENT_DURATION } from './telephone-event';

export interface DtmfSendOptions {
  digit: DtmfDigit;
  /** Tone duration in ms. Default 160 ms. */
  durationMs?: number;
  /** -dBm0, 0..63. Default 10. */
  volume?: number;
  /** telephone-event clock rate from SDP (8000 unless negotiated otherwise). Default 8000. */
  clockRate?: number;
  /** RTP timestamp of the event start (the current audio timestamp). */
  timestamp: number;
  /** Update interval in ms. Default 50. */
  intervalMs?: number;
}

export interface DtmfRtpPacket {
  /** Milliseconds after the first packet at which this one is sent. */
  sendAtMs: number;
  marker: boolean;
  timestamp: number;
  payload: Uint8Array;
}

export function buildDtmfPackets(options: DtmfSendOptions): DtmfRtpPacket[] {
  const durationMs = options.durationMs ?? 160;
  const intervalMs = options.intervalMs ?? 50;
  const clockRate = options.clockRate ?? 8000;
  const volume = options.volume ?? 10;
  if (!(durationMs > 0)) throw new RangeError(`DTMF duration must be positive, got ${durationMs} ms`);
  if (!(intervalMs > 0)) throw new RangeError(`DTMF update interval must be positive, got ${intervalMs} ms`);
  if (!Number.isInteger(options.timestamp) || options.timestamp < 0 || options.timestamp > 0xffffffff) {
    throw new RangeError(`RTP timestamp out of range: ${options.timestamp}`);
  }
  const toUnits = (ms: number) => Math.round((ms * clockRate) / 1000);
  const total = toUnits(durationMs);
  if (total > MAX_EVENT_DURATION) {
    // Long-duration segmentation (RFC 4733 §2.5.1.3) is not needed for keypad digits.
    throw new RangeError(`DTMF duration ${durationMs} ms exceeds one event segment (${MAX_EVENT_DURATION} units)`);
  }
  const event = dtmfEventCode(options.digit);
  const packets: DtmfRtpPacket[] = [];
  for (let t = 0; t < durationMs; t += intervalMs) {
    packets.push({
      sendAtMs: t,
      marker: t === 0,
      timestamp: options.timestamp,
      payload: encodeTelephoneEvent({ event, end: false, volume, duration: Math.min(toUnits(t + intervalMs), total) }),
    });
  }
  for (let i = 0; i < 3; i++) {
    packets.push({
      sendAtMs: durationMs,
      marker: false,
      timestamp: options.timestamp,
      payload: encodeTelephoneEvent({ event, end: true, volume, duration: total }),
    });
  }
  return packets;
}
