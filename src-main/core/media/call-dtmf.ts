/**
 * RFC 4733 DTMF for one call's RTP stream: sends digits as telephone-events on the call's SSRC
 * and turns received telephone-events into digits, each reported once.
 *
 * Sending rules:
 * - Digits are sent one after another (a queue): each takes `durationMs` of events plus a
 *   `gapMs` pause, so the far end sees separate key presses.
 * - While a digit is on the wire the media session's audio is suppressed (its timestamp keeps
 *   advancing), so the next audio packet carries a timestamp past the event, with the marker bit.
 * - The event timestamp is the stream's current timestamp; event packets use the PT and clock
 *   rate from the negotiated telephone-event (the peer's PT).
 * - `send` rejects when telephone-event was not negotiated or the call's media stops meanwhile.
 *
 * Receiving: packets go through DtmfReceiver; an event whose end packets were lost is closed
 * after 1 s by a timer.
 *
 * Time: the RTP session's MediaClock (media-clock.ts), like the audio on the same stream.
 *
 * Ownership: created and closed by the session description handler; Node main thread only.
 */
import type { DtmfDigit } from './dtmf/dtmf-digit';
import { DtmfReceiver, type ReceivedDtmfDigit } from './dtmf/rfc4733-receiver';
import { buildDtmfPackets } from './dtmf/rfc4733-sender';
import type { MediaTimer } from './media-clock';
import type { MediaSession } from './media-session';
import type { RtpSession } from './rtp/rtp-session';

export const DEFAULT_DTMF_DURATION_MS = 160;
const INTER_DIGIT_GAP_MS = 80;
const EXPIRE_CHECK_MS = 250;

export class CallDtmf {
  private queue: Promise<void> = Promise.resolve();
  private receiver: DtmfReceiver | undefined;
  private receiverRate = 0;
  private expireTimer: MediaTimer | undefined;
  private closed = false;

  constructor(
    private readonly rtp: RtpSession,
    private readonly media: MediaSession,
    private readonly onDigit: (digit: ReceivedDtmfDigit) => void,
    private readonly log: (message: string) => void,
  ) {
    media.onTelephoneEvent = (payload, timestamp, marker) => this.onPacket(payload, timestamp, marker);
  }

  /** Whether the current negotiation allows RFC 4733 sending. */
  get available(): boolean {
    return this.media.params.telephoneEvent !== undefined;
  }

  /** Queue digits; resolves once the last one was sent. */
  send(digits: readonly DtmfDigit[], durationMs = DEFAULT_DTMF_DURATION_MS): Promise<void> {
    const run = this.queue.then(async () => {
      for (const digit of digits) {
        await this.sendOne(digit, durationMs);
        await this.delay(INTER_DIGIT_GAP_MS);
      }
    });
    // Keep the queue alive after a failure; the caller gets the error from `run`.
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.closed = true;
    this.expireTimer?.cancel();
    this.expireTimer = undefined;
    this.media.onTelephoneEvent = undefined;
  }

  private async sendOne(digit: DtmfDigit, durationMs: number): Promise<void> {
    if (this.closed || this.media.state === 'stopped') throw new Error('The call has no media any more');
    const te = this.media.params.telephoneEvent;
    if (!te) throw new Error('The other side did not accept RFC 4733 telephone-events for this call');
    const packets = buildDtmfPackets({ digit, durationMs, clockRate: te.clockRate, timestamp: this.rtp.sendState.timestamp });
    this.media.suppressAudio = true;
    try {
      const clock = this.rtp.clock;
      const start = clock.now();
      for (const packet of packets) {
        const wait = start + packet.sendAtMs - clock.now();
        if (wait > 0) await this.delay(wait);
        if (this.closed) throw new Error('The call ended while sending DTMF');
        this.rtp.sendEvent(te.sendPayloadType, packet.payload, packet.timestamp, packet.marker);
      }
    } finally {
      this.media.suppressAudio = false;
    }
  }

  private onPacket(payload: Uint8Array, timestamp: number, marker: boolean): void {
    const rate = this.media.params.telephoneEvent?.clockRate ?? 8000;
    if (!this.receiver || this.receiverRate !== rate) {
      this.receiver = new DtmfReceiver(rate);
      this.receiverRate = rate;
    }
    if (!this.expireTimer) this.scheduleExpiry();
    let digits: ReceivedDtmfDigit[];
    try {
      digits = this.receiver.receive({ payload, timestamp, marker, arrivalMs: this.rtp.clock.now() });
    } catch (error) {
      // A malformed event packet is the peer's bug; drop it, keep the call.
      this.log(`Dropped a malformed telephone-event packet: ${(error as Error).message}`);
      return;
    }
    for (const digit of digits) this.onDigit(digit);
  }

  /** Every EXPIRE_CHECK_MS while the call lasts, once a telephone-event came in. */
  private scheduleExpiry(): void {
    this.expireTimer = this.rtp.clock.setTimer(
      () => {
        if (this.closed) return;
        try {
          for (const digit of this.receiver?.expire(this.rtp.clock.now()) ?? []) this.onDigit(digit);
          this.scheduleExpiry();
        } catch (error) {
          this.media.fail(error); // the call's media fault, as for the media session's own timers
        }
      },
      EXPIRE_CHECK_MS,
      true,
    );
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.rtp.clock.setTimer(resolve, ms));
  }
}
