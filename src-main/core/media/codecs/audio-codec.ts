/**
 * One audio codec = one small module implementing `AudioCodec`, registered in the codec registry
 * (see codec-registry.ts) with a register/unregister pair, as baresip's modules/ do.
 *
 * Ownership: an encoder/decoder instance belongs to one RTP stream of one call and is used from
 * the Node main thread only; it is closed when the stream ends.
 */
export interface AudioCodecInfo {
  /** SDP encoding name as in a=rtpmap, e.g. "PCMU", "G722", "opus". Case-insensitive match. */
  readonly encodingName: string;
  /** RTP clock rate as written in SDP (G.722 says 8000 although it samples at 16 kHz). */
  readonly rtpClockRate: number;
  /** PCM sample rate the encoder consumes and the decoder produces. */
  readonly sampleRate: number;
  readonly channels: number;
  /** Static payload type (RFC 3551), if the codec has one. */
  readonly staticPayloadType?: number;
  /** fmtp line we offer, if any. */
  readonly fmtp?: string;
  /**
   * A far end sending this codec may stop sending during silence without SIP saying so (Opus DTX,
   * RFC 7587 section 3.1.3). Codecs whose stream is continuous (G.711 and G.722) leave it unset:
   * their packets stop only when something went wrong, the call changes, or the far end said so
   * with a comfort-noise packet (RFC 3389, which the media session sees arrive; media-session.ts,
   * "Pacing", sizes its watchdog on this).
   */
  readonly discontinuous?: boolean;
  /**
   * The frame durations (ms, ascending) its encoder can produce, when not any whole number of
   * milliseconds: Opus codes 10, 20, 40 or 60 ms (2.5 and 5 are below any ptime we use). The
   * negotiation packetizes with the longest of them that does not exceed the far end's ptime.
   */
  readonly frameDurationsMs?: readonly number[];
}

export interface AudioEncoder {
  /**
   * Encode exactly one frame of mono PCM at `info.sampleRate` (e.g. 160 samples for 20 ms of G.711).
   * MUST NOT keep `pcm` after returning (the media session reads the next frame into the same array).
   */
  encode(pcm: Int16Array): Uint8Array;
  /**
   * The loss (percent) the far end reports on what we send (RTCP), for codecs whose redundancy
   * depends on it (Opus in-band FEC: none on a clean link, more on a lossy one). Optional.
   */
  setExpectedLoss?(percent: number): void;
  close(): void;
}

export interface AudioDecoder {
  /** Decode one RTP payload into PCM at `info.sampleRate`. */
  decode(payload: Uint8Array): Int16Array;
  /** Produce `samples` of concealment audio for a lost frame, when the codec can do better than silence. */
  conceal?(samples: number): Int16Array;
  /**
   * Reconstruct the lost frame just before `nextPayload` (`samples` long) from the redundancy the
   * next packet carries (Opus in-band FEC); when it carries none, the codec's own concealment. Call
   * it only for the one frame immediately preceding `nextPayload`, then decode nextPayload as usual.
   */
  recover?(nextPayload: Uint8Array, samples: number): Int16Array;
  close(): void;
}

export interface AudioCodec {
  readonly info: AudioCodecInfo;
  /**
   * `peerFmtp`: the a=fmtp parameters the far end's SDP gives our send payload type (what its
   * decoder asks for, e.g. RFC 7587's maxaveragebitrate; '' = it said nothing, which for some
   * parameters means their default). Undefined: no peer SDP, the encoder's own defaults. Codecs
   * without such parameters ignore it.
   */
  createEncoder(peerFmtp?: string): AudioEncoder;
  createDecoder(): AudioDecoder;
}
