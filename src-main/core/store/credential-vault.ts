/**
 * Seals secrets (SIP passwords) for storage at rest. In the app this is Electron's safeStorage
 * (OS keychain / DPAPI / libsecret); the core only sees this interface, so it never imports
 * electron. A vault that cannot encrypt MUST throw, never return plain text.
 */
export interface CredentialVault {
  /** Short name for diagnostics, e.g. "electron-safe-storage". */
  readonly kind: string;
  seal(plain: string): string;
  /** Throws when the sealed value cannot be opened (other machine/user, damaged). */
  open(sealed: string): string;
}
