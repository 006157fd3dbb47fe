/**
 * Plays the far end's audio where Chromium's echo canceller can see it.
 *
 * Chromium's getUserMedia AEC takes its far-end reference only from audio that WebRTC itself
 * plays out (remote tracks of an RTCPeerConnection rendered by a media element), not from an
 * AudioContext's output (Chromium bug 687574, Electron issue 47043): a softphone playing through
 * Web Audio gets no echo cancellation on speakers. So the far-end stream goes through a loopback
 * pair of RTCPeerConnections inside this page and out of an <audio> element: the audio the user
 * hears IS the AEC's reference.
 *
 * Details that matter: no ICE servers (host candidates only, the traffic never leaves the
 * machine); Opus at 128 kb/s mono, no DTX, so the loop adds no audible coding loss, in 10 ms
 * packets; the receiver's jitterBufferTarget is 0 (lowest latency NetEq allows). The loop still
 * adds ~40 ms (`npm run bench`, section 6b): the price of echo cancellation on speakers. NetEq also absorbs drift between the
 * AudioContext's clock and the output device's. The output device is the <audio> element's
 * setSinkId.
 *
 * States: open() -> connected (playing) -> close(). Ownership: owns both peer connections and the
 * element; not the stream it is given. Renderer main thread.
 */

const CONNECT_TIMEOUT_MS = 10_000;
const OPUS_PARAMETERS = 'maxaveragebitrate=128000;stereo=0;sprop-stereo=0;usedtx=0;useinbandfec=0;minptime=10';

/** Sets our Opus parameters on every Opus payload type of an SDP. */
function tuneOpus(sdp: string): string {
  const opusTypes = [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)].map((m) => m[1]!);
  let out = sdp;
  for (const pt of opusTypes) {
    const fmtp = new RegExp(`^a=fmtp:${pt} (.*)$`, 'm');
    out = fmtp.test(out)
      ? out.replace(fmtp, (_line, params: string) => `a=fmtp:${pt} ${mergeParameters(params, OPUS_PARAMETERS)}`)
      : out.replace(new RegExp(`^(a=rtpmap:${pt} opus/48000.*)$`, 'mi'), `$1\r\na=fmtp:${pt} ${OPUS_PARAMETERS}`);
  }
  // 10 ms packets: the loop's packetization is delay the user hears (20 ms packets measured ~15 ms
  // more, tests/bench/app-audio-bench.ts).
  return out.replace(/^a=ptime:\d+\r?\n/gm, '').replace(/^(m=audio .*)$/m, '$1\r\na=ptime:10');
}

function mergeParameters(existing: string, wanted: string): string {
  const map = new Map<string, string>();
  for (const part of `${existing};${wanted}`.split(';')) {
    const [key, value] = part.split('=');
    if (key && key.trim()) map.set(key.trim(), (value ?? '').trim());
  }
  return [...map].map(([k, v]) => `${k}=${v}`).join(';');
}

export class EchoReferenceRoute {
  private constructor(
    private readonly sender: RTCPeerConnection,
    private readonly receiver: RTCPeerConnection,
    /** The element the far end is heard from (exposed for diagnostics and tests). */
    readonly element: HTMLAudioElement,
  ) {}

  /** Starts playing `stream` (one audio track) through the loopback on `sinkId` (default device when omitted). */
  static async open(stream: MediaStream, sinkId?: string): Promise<EchoReferenceRoute> {
    const track = stream.getAudioTracks()[0];
    if (!track) throw new Error('EchoReferenceRoute: the far-end stream has no audio track');
    const sender = new RTCPeerConnection({ iceServers: [] });
    const receiver = new RTCPeerConnection({ iceServers: [] });
    const element = new Audio();
    const route = new EchoReferenceRoute(sender, receiver, element);
    try {
      sender.onicecandidate = (e) => {
        if (e.candidate) receiver.addIceCandidate(e.candidate).catch((error: Error) => console.warn(`EchoReferenceRoute: candidate rejected: ${error.message}`));
      };
      receiver.onicecandidate = (e) => {
        if (e.candidate) sender.addIceCandidate(e.candidate).catch((error: Error) => console.warn(`EchoReferenceRoute: candidate rejected: ${error.message}`));
      };
      const remoteTrack = new Promise<MediaStreamTrack>((resolve) => {
        receiver.ontrack = (e) => resolve(e.track);
      });
      sender.addTrack(track, stream);
      const offer = await sender.createOffer();
      const tunedOffer = { type: offer.type, sdp: tuneOpus(offer.sdp ?? '') };
      await sender.setLocalDescription(tunedOffer);
      await receiver.setRemoteDescription(tunedOffer);
      const answer = await receiver.createAnswer();
      const tunedAnswer = { type: answer.type, sdp: tuneOpus(answer.sdp ?? '') };
      await receiver.setLocalDescription(tunedAnswer);
      await sender.setRemoteDescription(tunedAnswer);
      await route.connected();
      const rtpReceiver = receiver.getReceivers()[0] as (RTCRtpReceiver & { jitterBufferTarget?: number | null }) | undefined;
      if (rtpReceiver && 'jitterBufferTarget' in rtpReceiver) rtpReceiver.jitterBufferTarget = 0;
      element.srcObject = new MediaStream([await remoteTrack]);
      if (sinkId !== undefined) await route.setSinkId(sinkId);
      await element.play();
      return route;
    } catch (error) {
      route.close();
      throw new Error(`EchoReferenceRoute: could not open the loopback: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Output device for the far end's audio ('' = the default device). */
  async setSinkId(sinkId: string): Promise<void> {
    await this.element.setSinkId(sinkId);
  }

  close(): void {
    this.element.pause();
    this.element.srcObject = null;
    this.sender.close();
    this.receiver.close();
  }

  private connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not connected after ${CONNECT_TIMEOUT_MS} ms (ICE state ${this.receiver.iceConnectionState})`)), CONNECT_TIMEOUT_MS);
      const check = (): void => {
        const state = this.receiver.connectionState;
        if (state === 'connected') {
          clearTimeout(timer);
          resolve();
        } else if (state === 'failed' || state === 'closed') {
          clearTimeout(timer);
          reject(new Error(`connection ${state}`));
        }
      };
      this.receiver.onconnectionstatechange = check;
      check();
    });
  }
}
