/**
 * NTP timestamps as RTCP uses them (RFC 3550 §4): 64-bit, seconds since 1900-01-01 in the high
 * word, binary fraction in the low word. The "compact" form is the middle 32 bits (16.16 fixed
 * point seconds), used by LSR/DLSR and round-trip time.
 */
const UNIX_TO_NTP_SECONDS = 2_208_988_800;

/** 64-bit NTP timestamp for a Unix time in milliseconds. */
export function ntpFromUnixMs(unixMs: number): bigint {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds + UNIX_TO_NTP_SECONDS) << 32n) | BigInt(fraction);
}

/** Middle 32 bits of a 64-bit NTP timestamp (the LSR value). */
export function compactNtp(ntp: bigint): number {
  return Number((ntp >> 16n) & 0xffffffffn);
}

/** Compact NTP (16.16 seconds) for a Unix time in milliseconds. */
export function compactNtpFromUnixMs(unixMs: number): number {
  return compactNtp(ntpFromUnixMs(unixMs));
}

/** Unix milliseconds for a 64-bit NTP timestamp. */
export function unixMsFromNtp(ntp: bigint): number {
  const seconds = Number(ntp >> 32n) - UNIX_TO_NTP_SECONDS;
  const fraction = Number(ntp & 0xffffffffn) / 2 ** 32;
  return (seconds + fraction) * 1000;
}
