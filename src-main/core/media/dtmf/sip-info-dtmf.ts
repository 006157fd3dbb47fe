/**
 * DTMF over SIP INFO with Content-Type application/dtmf-relay (the de facto format of Cisco/Asterisk/
 * FreeSWITCH/baresip):
 *
 *   Signal=5\r\n
 *   Duration=160\r\n
 *
 * Duration is in milliseconds. Parsing is lenient about what real devices send: keys in any case,
 * spaces around '=', LF or CRLF, extra lines ignored, Signal given as a digit or as the numeric
 * event code 10/11 (*, #) some gateways use. A missing Duration gives undefined.
 */
import type { DtmfDigit } from './dtmf-digit';
import { dtmfDigitOfEvent, isDtmfDigit, toDtmfDigit } from './dtmf-digit';

export const DTMF_RELAY_CONTENT_TYPE = 'application/dtmf-relay';

export interface DtmfRelay {
  digit: DtmfDigit;
  durationMs: number | undefined;
}

export function buildDtmfRelayBody(digit: DtmfDigit, durationMs: number): string {
  if (!isDtmfDigit(digit)) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  if (!Number.isInteger(durationMs) || durationMs <= 0) {
    throw new RangeError(`DTMF duration must be a positive integer of ms, got ${durationMs}`);
  }
  return `Signal=${digit}\r\nDuration=${durationMs}\r\n`;
}

export function parseDtmfRelayBody(body: string): DtmfRelay {
  let signal: string | undefined;
  let duration: string | undefined;
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === 'signal') signal = value;
    else if (key === 'duration') duration = value;
  }
  if (signal === undefined || signal === '') throw new Error(`dtmf-relay body has no Signal line: ${JSON.stringify(body)}`);
  let digit: DtmfDigit;
  if (/^1[0-5]$/.test(signal)) {
    digit = dtmfDigitOfEvent(Number(signal))!;
  } else if (signal.length === 1) {
    digit = toDtmfDigit(signal);
  } else {
    throw new Error(`dtmf-relay Signal is not a DTMF digit: ${JSON.stringify(signal)}`);
  }
  let durationMs: number | undefined;
  if (duration !== undefined) {
    if (!/^\d+$/.test(duration) || Number(duration) <= 0) {
      throw new Error(`dtmf-relay Duration is not a positive number of ms: ${JSON.stringify(duration)}`);
    }
    durationMs = Number(duration);
  }
  return { digit, durationMs };
}
