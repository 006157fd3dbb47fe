/**
 * SIP status codes in words an office user understands. The SIP code stays available next to
 * the words (CallSnapshot.sipCode) for the engineer reading the same screen.
 */

/** Why a call attempt failed, from the final response the far side (or the PBX) sent. */
export function callFailureReason(code: number, localTimeout = false, transportError = false): string {
  if (transportError) return 'Could not reach the phone system (network problem)';
  if (localTimeout) return 'No response from the other side';
  switch (code) {
    case 400:
      return 'The phone system rejected the call request as malformed';
    case 401:
    case 407:
      return 'Wrong username or password';
    case 403:
      return 'Not allowed to call this number';
    case 404:
    case 604:
      return 'Number not found';
    case 408:
      return 'No answer';
    case 410:
      return 'Number no longer in service';
    case 480:
      return 'Not available right now';
    case 484:
      return 'Incomplete number';
    case 486:
    case 600:
      return 'Busy';
    case 487:
      return 'Call cancelled';
    case 488:
    case 606:
      return 'Incompatible audio settings (no common codec)';
    case 503:
      return 'The phone system is unavailable';
    case 603:
      return 'Call declined';
    default:
      if (code >= 300 && code < 400) return 'The number has moved (redirect not followed)';
      if (code >= 500 && code < 600) return 'The phone system had an error';
      return `Call failed (SIP ${code})`;
  }
}

/** Why a registration failed. `retry` says whether retrying later can help without user action. */
export function registrationFailure(code: number, hasPassword: boolean): { reason: string; retry: boolean } {
  switch (code) {
    case 401:
    case 407:
      return hasPassword
        ? { reason: 'Wrong username or password', retry: false }
        : { reason: 'This account needs a password', retry: false };
    case 403:
      // Kamailio, Asterisk and 3CX answer a wrong password with 403 once the challenge fails.
      return { reason: 'Wrong username or password', retry: false };
    case 404:
      return { reason: 'Unknown user or domain on the phone system', retry: false };
    case 408:
      return { reason: 'No response from the phone system', retry: true };
    case 423:
      return { reason: 'The phone system rejected the registration interval', retry: false };
    case 503:
      return { reason: 'The phone system is unavailable', retry: true };
    default:
      if (code >= 500) return { reason: `The phone system had an error (SIP ${code})`, retry: true };
      return { reason: `Registration refused (SIP ${code})`, retry: false };
  }
}
