/**
 * sip:/sips:/tel: links the OS hands to the app (command line on Windows/Linux, open-url on macOS)
 * turned into a call.dial target. No electron import: unit-testable.
 */
const DIALABLE = /^(sips?|tel):/i;
/** Control characters and whitespace never belong in a URI; refuse rather than guess. */
function hasSpaceOrControl(text: string): boolean {
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || /\s/.test(char)) return true;
  }
  return false;
}

/** The dial target in a link, or an Error saying why it cannot be dialled. */
export function dialTargetFromLink(link: string): string | Error {
  if (!DIALABLE.test(link)) return new Error(`Not a sip:, sips: or tel: link: ${link.slice(0, 80)}`);
  // Browsers pass links as sip://user@host: the "//" is not part of a SIP URI.
  const target = link.replace(/^(sips?|tel):\/\//i, '$1:');
  if (target.length > 512) return new Error('The link is too long to be a phone number or SIP address');
  if (hasSpaceOrControl(target)) return new Error('The link contains spaces or control characters');
  if (/^(sips?|tel):$/i.test(target)) return new Error('The link has no number or address');
  return target;
}

/** The first sip:/sips:/tel: argument on a command line, if any. */
export function dialLinkInArgv(argv: readonly string[]): string | undefined {
  return argv.find((arg) => DIALABLE.test(arg));
}
