/**
 * DTMF digits and their RFC 4733 §3.2 event codes: 0-9 -> 0-9, * -> 10, # -> 11, A-D -> 12-15.
 */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

const DIGITS: readonly DtmfDigit[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'];

export function isDtmfDigit(value: string): value is DtmfDigit {
  return (DIGITS as readonly string[]).includes(value);
}

/** Normalizes case ('a' -> 'A'); throws on anything that is not a DTMF digit. */
export function toDtmfDigit(value: string): DtmfDigit {
  const upper = value.toUpperCase();
  if (!isDtmfDigit(upper)) throw new RangeError(`not a DTMF digit: ${JSON.stringify(value)} (expected 0-9, *, #, A-D)`);
  return upper;
}

export function dtmfEventCode(digit: DtmfDigit): number {
  return DIGITS.indexOf(digit);
}

/** The digit of an RFC 4733 event code, or undefined for codes that are not DTMF (e.g. 16 flash). */
export function dtmfDigitOfEvent(code: number): DtmfDigit | undefined {
  return DIGITS[code];
}
