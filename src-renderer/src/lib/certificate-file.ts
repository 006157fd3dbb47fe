/**
 * A certificate file as the user picks it, turned into the PEM text the contract's
 * `tls.caPem` takes. CAs come as PEM (text, `-----BEGIN CERTIFICATE-----`) or as DER (the binary
 * form Windows exports as .cer): DER is wrapped as PEM here; anything else is passed on as text,
 * so the core's check says what is wrong with it in the form's words.
 */
const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
/** A DER certificate is an ASN.1 SEQUENCE: tag 0x30 with a long-form length. */
const DER_SEQUENCE = 0x30;

export function certificatePem(bytes: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (text.includes(PEM_BEGIN) || bytes[0] !== DER_SEQUENCE || bytes.length < 4) return text;
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `${PEM_BEGIN}\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
