/**
 * RFC 4733 §2.3 telephone-event payload (4 bytes per event):
 *
 *    0                   1                   2                   3
 *   |     event     |E|R| volume    |          duration             |
 *
 * event: event code; E: end of event; R: reserved (sent 0, ignored); volume: 0..63 = -dBm0
 * (DTMF MUST carry it); duration: in RTP timestamp units since the event's start timestamp.
 */
export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

export const TELEPHONE_EVENT_PAYLOAD_BYTES = 4;
export const MAX_EVENT_DURATION = 0xffff;

export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  if (!Number.isInteger(e.event) || e.event < 0 || e.event > 255) throw new RangeError(`event code out of range: ${e.event}`);
  if (!Number.isInteger(e.volume) || e.volume < 0 || e.volume > 63) throw new RangeError(`volume out of range 0..63: ${e.volume}`);
  if (!Number.isInteger(e.duration) || e.duration < 0 || e.duration > MAX_EVENT_DURATION) {
    throw new RangeError(`duration out of range 0..65535: ${e.duration}`);
  }
  return Uint8Array.of(e.event, (e.end ? 0x80 : 0) | e.volume, e.duration >> 8, e.duration & 0xff);
}

/** Decodes the first event of a payload (redundant extra events, if any, are ignored). */
export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent {
  if (payload.length < TELEPHONE_EVENT_PAYLOAD_BYTES) {
    throw new RangeError(`telephone-event payload too short: ${payload.length} bytes, need 4`);
  }
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}
