/**
 * The parameters of an a=fmtp line (RFC 4566 section 6: format-specific, here the common
 * "name=value;name=value" form of RFC 7587, RFC 4733 ranges aside). Names are case-insensitive
 * (lowercased here), values are kept as written; a name without "=" gets the value "". Malformed
 * pieces (empty names) are skipped: fmtp is the peer's preference, never a reason to fail a call.
 */
export function parseFmtpParameters(parameters: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const piece of parameters.split(';')) {
    const eq = piece.indexOf('=');
    const name = (eq < 0 ? piece : piece.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    out.set(name, eq < 0 ? '' : piece.slice(eq + 1).trim());
  }
  return out;
}
