// RFC 3261 17.1.1.2 / 17.1.2.2 / 17.2.1 retransmission over UDP, which sip.js leaves to the transport.
//
// Entries are keyed by `${topViaBranch} ${CSeqMethod}` (the transaction key of RFC 3261 17.1.3).
//   Timer A (INVITE request):       resend after T1, 2T1, 4T1, ... until ANY response; give up at 64*T1.
//   Timer E (non-INVITE request):   resend after min(2^n*T1, T2) until a FINAL response; after a
//                                   provisional the interval is T2; give up at 64*T1.
//   Timer G (our non-2xx final response to INVITE): resend after min(2^n*T1, T2) until the ACK with
//                                   the same branch arrives; give up at 64*T1.
// ACK is never tracked. 2xx responses to INVITE are not tracked (sip.js retransmits those itself).
// Giving up is silent here: sip.js's own Timer B/F/H report the transaction timeout to the user.
// Single-threaded: all calls come from the transport on the event loop.

export interface RetransmitTiming {
  /** RTT estimate, default 500 ms. */
  t1Ms: number;
  /** Maximum interval for non-INVITE requests and INVITE responses, default 4000 ms. */
  t2Ms: number;
}

export const DEFAULT_TIMING: RetransmitTiming = { t1Ms: 500, t2Ms: 4000 };

type Kind = 'invite-request' | 'non-invite-request' | 'invite-final-response';

interface Entry {
  kind: Kind;
  resend: () => void;
  interval: number;
  deadline: number;
  /** Non-INVITE request got a provisional: interval pinned to T2. */
  provisional: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Owning map and key, so a fired timer can tell whether it was superseded. */
  map: Map<string, Entry>;
  key: string;
}

export function transactionKey(branch: string, method: string): string {
  return `${branch} ${method.toUpperCase()}`;
}

export class UdpRetransmitter {
  private readonly requests = new Map<string, Entry>();
  private readonly responses = new Map<string, Entry>();

  constructor(private readonly timing: RetransmitTiming = DEFAULT_TIMING) {}

  /** Starts Timer A (INVITE) or E (others) for a request just sent. Replaces an entry with the same key. */
  trackRequest(key: string, method: string, resend: () => void): void {
    if (method.toUpperCase() === 'ACK') return;
    this.start(this.requests, key, method.toUpperCase() === 'INVITE' ? 'invite-request' : 'non-invite-request', resend);
  }

  /** Starts Timer G for a non-2xx final response to INVITE; key is the INVITE's transaction key. */
  trackInviteFinalResponse(key: string, resend: () => void): void {
    this.start(this.responses, key, 'invite-final-response', resend);
  }

  /** Restarts a tracked request from T1 with a fresh 64*T1 budget (after failover to another server). */
  restartRequest(key: string): void {
    const entry = this.requests.get(key);
    if (entry) this.start(this.requests, key, entry.kind, entry.resend);
  }

  isTrackingRequest(key: string): boolean {
    return this.requests.has(key);
  }

  /** A response to one of our requests arrived. */
  onResponse(key: string, status: number): void {
    const entry = this.requests.get(key);
    if (!entry) return;
    if (status >= 200 || entry.kind === 'invite-request') {
      this.stop(this.requests, key);
      return;
    }
    if (!entry.provisional) {
      entry.provisional = true;
      entry.interval = this.timing.t2Ms;
      this.schedule(entry);
    }
  }

  /** An ACK arrived: the INVITE server transaction with this branch is confirmed (stops Timer G). */
  onAck(inviteKey: string): void {
    this.stop(this.responses, inviteKey);
  }

  stopAll(): void {
    for (const key of [...this.requests.keys()]) this.stop(this.requests, key);
    for (const key of [...this.responses.keys()]) this.stop(this.responses, key);
  }

  private start(map: Map<string, Entry>, key: string, kind: Kind, resend: () => void): void {
    this.stop(map, key);
    const entry: Entry = {
      kind,
      resend,
      interval: this.timing.t1Ms,
      deadline: Date.now() + 64 * this.timing.t1Ms,
      provisional: false,
      timer: undefined,
      map,
      key,
    };
    map.set(key, entry);
    this.schedule(entry);
  }

  private schedule(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    const delay = Math.min(entry.interval, Math.max(0, entry.deadline - Date.now()));
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      if (entry.map.get(entry.key) !== entry) return;
      if (Date.now() >= entry.deadline) {
        entry.map.delete(entry.key);
        return;
      }
      entry.resend();
      if (entry.kind === 'invite-request') entry.interval *= 2;
      else if (!entry.provisional) entry.interval = Math.min(entry.interval * 2, this.timing.t2Ms);
      this.schedule(entry);
    }, delay);
  }

  private stop(map: Map<string, Entry>, key: string): void {
    const entry = map.get(key);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    map.delete(key);
  }
}
