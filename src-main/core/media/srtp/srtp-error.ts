/**
 * The one error type SRTP/SRTCP processing throws. `reason` is machine-readable so the media
 * session can count drops per cause (a burst of 'auth-failed' usually means a key mismatch, a
 * burst of 'replayed' a looping network path); `message` says the same in words with context.
 */
export type SrtpErrorReason =
  /** Packet shorter than its header plus authentication tag, or a header that overruns the packet. */
  | 'malformed'
  /** The authentication tag does not match: wrong key, or the packet was modified in transit. */
  | 'auth-failed'
  /** A packet with this index was already accepted (replay protection, RFC 3711 §3.3.2). */
  | 'replayed'
  /** The index is older than the replay window, so it can no longer be checked and is dropped. */
  | 'too-old'
  /** The MKI in the packet is not the one this context was keyed with. */
  | 'unknown-mki'
  /** Bad configuration: key/salt lengths, unknown suite. */
  | 'bad-key';

export class SrtpError extends Error {
  override readonly name = 'SrtpError';
  constructor(
    readonly reason: SrtpErrorReason,
    message: string,
  ) {
    super(message);
  }
}
