/** A SIP URI as people read it: "sip:carol@pbx.example.com;transport=udp" → "carol@pbx.example.com". */
export function displayUri(uri: string): string {
  return uri.replace(/^(sips?|tel):/i, '').replace(/[;?].*$/, '');
}
