/**
 * CredentialVault backed by Electron's safeStorage (macOS Keychain, Windows DPAPI, Linux
 * libsecret/kwallet). Sealed values are "safeStorage:v1:<base64>".
 * On Linux without a secret service safeStorage falls back to a hard-coded key ("basic_text"),
 * which is obfuscation, not protection: this vault refuses to seal then. Callers check
 * SafeStorageVault.unavailableReason() first and run without a vault (the settings store then saves
 * accounts without passwords) rather than pretend passwords are protected.
 * Use only after app 'ready' (safeStorage is unavailable before).
 */
import { safeStorage } from 'electron';
import type { CredentialVault } from '../core/store/credential-vault';

const PREFIX = 'safeStorage:v1:';

export class SafeStorageVault implements CredentialVault {
  readonly kind = 'electron-safe-storage';

  seal(plain: string): string {
    this.assertProtected();
    return PREFIX + safeStorage.encryptString(plain).toString('base64');
  }

  open(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) throw new Error('the stored password was not sealed by this app (unknown format)');
    this.assertProtected();
    try {
      return safeStorage.decryptString(Buffer.from(sealed.slice(PREFIX.length), 'base64'));
    } catch (error) {
      throw new Error(
        `the OS credential store could not decrypt it (other user or machine, or a reset keychain): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Why passwords cannot be protected on this machine right now, or undefined when they can. */
  static unavailableReason(): string | undefined {
    if (!safeStorage.isEncryptionAvailable()) return 'the OS credential store is not available, so passwords cannot be stored encrypted';
    if (process.platform === 'linux') {
      const backend = safeStorage.getSelectedStorageBackend();
      if (backend === 'basic_text' || backend === 'unknown')
        return `no secret service (libsecret/kwallet) is running (safeStorage backend "${backend}"), so passwords cannot be stored encrypted`;
    }
    return undefined;
  }

  private assertProtected(): void {
    const reason = SafeStorageVault.unavailableReason();
    if (reason) throw new Error(reason);
  }
}
