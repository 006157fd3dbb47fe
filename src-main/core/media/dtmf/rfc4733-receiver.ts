/**
 * Turns received RFC 4733 telephone-event packets into DTMF digits, each reported exactly once.
 *
 * An event is identified by its RTP timestamp (RFC 4733 §2.5.2.1: all packets of one event share
 * it; the marker bit only helps, it may be lost). Per event:
 *   unseen --any packet--> active --E bit--> reported (digit + final duration)
 *   active --packet of a newer event, or expire() after `timeoutMs` without packets--> reported
 *                                   with the longest duration seen
 * Packets of an already reported event (the redundant end packets, late updates) are ignored.
 * Non-DTMF event codes (e.g. flash) are ignored.
 */
import type { DtmfDigit } from './dtmf-digit';
import { dtmfDigitOfEvent } from './dtmf-digit';
import { decodeTelephoneEvent } from './telephone-event';

export interface ReceivedDtmfPacket {
  timestamp: number;
  marker: boolean;
  payload: Uint8Array;
  /** Arrival time (ms, monotonic); used by expire(). */
  arrivalMs: number;
}

export interface ReceivedDtmfDigit {
  digit: DtmfDigit;
  durationMs: number;
  /** RTP timestamp of the event start. */
  timestamp: number;
  /** False when the end packets were all lost and the digit was closed by a timeout or newer event. */
  endSeen: boolean;
}

interface ActiveEvent {
  timestamp: number;
  digit: DtmfDigit;
  duration: number;
  lastArrivalMs: number;
}

/** How many finished event timestamps are remembered to drop their retransmissions. */
const FINISHED_MEMORY = 32;

export class DtmfReceiver {
  private active: ActiveEvent | undefined;
  private readonly finished: number[] = [];

  constructor(
    private readonly clockRate = 8000,
    private readonly timeoutMs = 1000,
  ) {}

  /** Feed one telephone-event packet; returns the digits completed by it (0, 1 or 2). */
  receive(packet: ReceivedDtmfPacket): ReceivedDtmfDigit[] {
    const event = decodeTelephoneEvent(packet.payload);
    const digit = dtmfDigitOfEvent(event.event);
    if (digit === undefined || this.finished.includes(packet.timestamp)) return [];
    const done: ReceivedDtmfDigit[] = [];
    if (this.active && this.active.timestamp !== packet.timestamp) {
      if (this.isOlder(packet.timestamp, this.active.timestamp)) return []; // stray packet of a past event
      done.push(this.finish(false));
    }
    if (!this.active) {
      this.active = { timestamp: packet.timestamp, digit, duration: 0, lastArrivalMs: packet.arrivalMs };
    }
    const active = this.active;
    active.duration = Math.max(active.duration, event.duration);
    active.lastArrivalMs = packet.arrivalMs;
    if (event.end) done.push(this.finish(true));
    return done;
  }

  /** Close an event whose end packets never came; call periodically. */
  expire(nowMs: number): ReceivedDtmfDigit[] {
    if (this.active && nowMs - this.active.lastArrivalMs >= this.timeoutMs) return [this.finish(false)];
    return [];
  }

  private finish(endSeen: boolean): ReceivedDtmfDigit {
    const a = this.active!;
    this.active = undefined;
    this.finished.push(a.timestamp);
    if (this.finished.length > FINISHED_MEMORY) this.finished.shift();
    return { digit: a.digit, durationMs: (a.duration * 1000) / this.clockRate, timestamp: a.timestamp, endSeen };
  }

  /** RTP timestamp comparison modulo 2^32. */
  private isOlder(ts: number, than: number): boolean {
    const delta = (ts - than) >>> 0;
    return delta >= 0x80000000;
  }
}
