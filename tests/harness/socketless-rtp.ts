// An RtpSession without a socket, for media tests that hand it datagrams themselves
// (`rtp.receiveDatagram`) on a virtual clock: what it sends is only counted.
import type { MediaClock } from '../../src-main/core/media/media-clock';
import { RtpSession, type RtpSendState } from '../../src-main/core/media/rtp/rtp-session';
import type { RtpStreamSocket } from '../../src-main/core/media/rtp/rtp-stream-socket';

/** The part of RtpStreamSocket an RtpSession uses, with no socket behind it. */
class SocketlessRtpSocket {
  readonly local = { address: '127.0.0.1', port: 40000 };
  rtcp = undefined;
  sent = 0;
  send(): boolean {
    this.sent++;
    return true;
  }
  setRemote(): void {}
  onDatagram(): void {}
}

export function socketlessRtpSession(clock: MediaClock, initial: Partial<RtpSendState>): RtpSession {
  return new RtpSession(new SocketlessRtpSocket() as unknown as RtpStreamSocket, initial, clock);
}
