/**
 * Per-account SRTP policy applied to SDP offers and answers (SDES keying only).
 *
 * Policies:
 *   'off'       never encrypt: offer RTP/AVP without a=crypto; refuse RTP/SAVP offers.
 *   'optional'  encrypt when the peer can: offer RTP/AVP WITH a=crypto ("best effort SRTP", what
 *               baresip's mediaenc=srtp and Asterisk/FreeSWITCH optional modes do); accept plain.
 *   'mandatory' always encrypt: offer RTP/SAVP with a=crypto; refuse anything we cannot encrypt.
 *
 * Incoming offer decision table (profile of the m= line × policy):
 *   RTP/SAVP(F) + usable crypto     off → reject 488   optional/mandatory → accept-srtp
 *   RTP/SAVP(F) + no usable crypto  any → reject 488 (we cannot encrypt, and the caller requires it)
 *   RTP/AVP(F)  + usable crypto     off → accept-plain optional/mandatory → accept-srtp
 *   RTP/AVP(F)  + no usable crypto  off/optional → accept-plain   mandatory → reject 488
 *   any other profile (DTLS "UDP/TLS/RTP/SAVP", …) → reject 488
 * The answer keeps the offered profile (RFC 3264 §6: an answer MUST use the offer's transport)
 * and, for SRTP, one a=crypto line with the chosen offered tag and suite but OUR fresh key.
 * Reject reasons are sentences for the user (they end up in the call history and in the 488's
 * Warning/Reason), e.g. "Caller requires encryption (SRTP) but this account has it turned off".
 */
import { SRTP_SUITE_PREFERENCE, type SrtpSuiteName } from './srtp-suite';
import { buildCryptoLine, chooseOfferedCrypto, generateSdesKey, parseCryptoLine, SdesError, type SdesCrypto } from './sdes';

export type SrtpPolicy = 'off' | 'optional' | 'mandatory';

export interface SdesKeying {
  readonly suite: SrtpSuiteName;
  /** Our crypto (tag, suite, fresh key) — goes into our SDP. */
  readonly local: SdesCrypto;
  /** The peer's crypto — its key decrypts what we receive. */
  readonly remote: SdesCrypto;
}

export type IncomingOfferDecision =
  | { readonly kind: 'accept-srtp'; readonly profile: string; readonly cryptoLine: string; readonly keying: SdesKeying }
  | { readonly kind: 'accept-plain'; readonly profile: string }
  | { readonly kind: 'reject'; readonly status: 488; readonly reason: string };

export interface OfferedMedia {
  /** Transport protocol of the m= line, e.g. "RTP/AVP", "RTP/SAVP". */
  readonly profile: string;
  /** The m= section's a=crypto lines, as written ("a=crypto:…" or the bare value). */
  readonly cryptoLines: readonly string[];
}

type ProfileKind = 'plain' | 'secure' | 'unsupported';

function profileKind(profile: string): ProfileKind {
  switch (profile.toUpperCase()) {
    case 'RTP/AVP':
    case 'RTP/AVPF':
      return 'plain';
    case 'RTP/SAVP':
    case 'RTP/SAVPF':
      return 'secure';
    default:
      return 'unsupported';
  }
}

export function decideIncomingOffer(policy: SrtpPolicy, offer: OfferedMedia): IncomingOfferDecision {
  const kind = profileKind(offer.profile);
  if (kind === 'unsupported')
    return reject(`Caller offered media transport ${offer.profile}, which this phone does not support (only RTP/AVP and RTP/SAVP with SDES keys)`);
  if (kind === 'secure' && policy === 'off')
    return reject('Caller requires encryption (SRTP) but this account has it turned off');
  if (kind === 'plain' && policy === 'off') return { kind: 'accept-plain', profile: offer.profile };

  const { chosen, skipped } = chooseOfferedCrypto(offer.cryptoLines);
  if (chosen?.suite !== undefined) {
    const key = generateSdesKey(chosen.suite);
    const cryptoLine = buildCryptoLine({ tag: chosen.tag, suite: chosen.suite, ...key });
    return {
      kind: 'accept-srtp',
      profile: offer.profile,
      cryptoLine,
      keying: { suite: chosen.suite, local: parseCryptoLine(cryptoLine), remote: chosen },
    };
  }
  const why = skipped.length > 0 ? ` (${skipped.map((s) => s.reason).join('; ')})` : '';
  if (kind === 'secure')
    return reject(
      offer.cryptoLines.length === 0
        ? 'Caller requires encryption (SRTP) but sent no encryption keys (a=crypto); DTLS-SRTP is not supported'
        : `Caller requires encryption (SRTP) but offered no crypto suite this phone supports${why}`,
    );
  if (policy === 'mandatory')
    return reject(
      offer.cryptoLines.length === 0
        ? 'This account requires encryption (SRTP) but the caller offered an unencrypted call'
        : `This account requires encryption (SRTP) but the caller offered no usable crypto suite${why}`,
    );
  return { kind: 'accept-plain', profile: offer.profile };
}

function reject(reason: string): IncomingOfferDecision {
  return { kind: 'reject', status: 488, reason };
}

/** What to put in our own offer for an account's policy. */
export interface OutgoingOffer {
  readonly profile: 'RTP/AVP' | 'RTP/SAVP';
  readonly cryptoLines: readonly string[];
  /** Our offered cryptos (with keys), needed to interpret the answer. */
  readonly offered: readonly SdesCrypto[];
}

export function buildOutgoingOffer(
  policy: SrtpPolicy,
  suites: readonly SrtpSuiteName[] = SRTP_SUITE_PREFERENCE,
): OutgoingOffer {
  if (policy === 'off') return { profile: 'RTP/AVP', cryptoLines: [], offered: [] };
  const cryptoLines = suites.map((suite, i) => buildCryptoLine({ tag: i + 1, suite, ...generateSdesKey(suite) }));
  return {
    profile: policy === 'mandatory' ? 'RTP/SAVP' : 'RTP/AVP',
    cryptoLines,
    offered: cryptoLines.map((line) => parseCryptoLine(line)),
  };
}

export type AnswerDecision =
  | { readonly kind: 'srtp'; readonly keying: SdesKeying }
  | { readonly kind: 'plain' }
  /** The call cannot go on with this answer: hang up (send BYE / CANCEL) and show `reason`. */
  | { readonly kind: 'fail'; readonly reason: string };

/** Interpret the answer to an offer built by buildOutgoingOffer. */
export function decideAnswer(policy: SrtpPolicy, offer: OutgoingOffer, answer: OfferedMedia): AnswerDecision {
  if (offer.offered.length === 0) {
    if (answer.cryptoLines.length > 0 || profileKind(answer.profile) === 'secure')
      return { kind: 'fail', reason: 'The other side answered with encryption (SRTP) although this account has it turned off' };
    return { kind: 'plain' };
  }
  if (answer.cryptoLines.length === 0) {
    if (policy === 'mandatory' || profileKind(answer.profile) === 'secure')
      return { kind: 'fail', reason: 'This account requires encryption (SRTP) but the other side answered without it' };
    return { kind: 'plain' };
  }
  if (answer.cryptoLines.length > 1)
    return { kind: 'fail', reason: `The other side answered with ${answer.cryptoLines.length} a=crypto lines; an answer must pick exactly one` };
  let remote: SdesCrypto;
  try {
    remote = parseCryptoLine(answer.cryptoLines[0]!);
  } catch (error) {
    if (error instanceof SdesError) return { kind: 'fail', reason: `The other side's encryption key is malformed: ${error.message}` };
    throw error;
  }
  const local = offer.offered.find((c) => c.tag === remote.tag);
  if (!local) return { kind: 'fail', reason: `The other side answered with crypto tag ${remote.tag}, which we did not offer` };
  if (local.suiteName !== remote.suiteName || local.suite === undefined)
    return {
      kind: 'fail',
      reason: `The other side answered crypto tag ${remote.tag} with suite ${remote.suiteName}, but we offered ${local.suiteName} under that tag`,
    };
  if (remote.unsupportedReason !== undefined)
    return { kind: 'fail', reason: `The other side's encryption parameters are not supported: ${remote.unsupportedReason}` };
  return { kind: 'srtp', keying: { suite: local.suite, local, remote } };
}
