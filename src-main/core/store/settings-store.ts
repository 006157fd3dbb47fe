/**
 * Settings on disk: the user's accounts (passwords sealed by a CredentialVault) in one JSON file.
 *
 * Rules:
 * - Writes are atomic (temp file + rename) and private (mode 0600): a crash mid-write never
 *   leaves a half file, and other users cannot read it.
 * - A file that cannot be read or parsed is NEVER overwritten silently: it is copied aside as
 *   `<name>.corrupt-<timestamp>` first, and load() reports that in words, so the user can recover it.
 * - Plain-text passwords are never written: without a vault, accounts are saved without password.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { AccountConfig } from '../../common/contract/contract';
import type { CredentialVault } from './credential-vault';

const StoredAccount = AccountConfig.omit({ password: true }).extend({ sealedPassword: z.string().optional() });
const SettingsFile = z.object({ version: z.literal(1), accounts: z.array(StoredAccount) });
type SettingsFile = z.infer<typeof SettingsFile>;

export interface LoadedSettings {
  accounts: AccountConfig[];
  /** Set when something needs the user's attention (corrupt file kept aside, password unreadable). */
  notices: string[];
}

export class SettingsStore {
  constructor(
    readonly path: string,
    private readonly vault: CredentialVault | undefined,
  ) {}

  load(): LoadedSettings {
    if (!existsSync(this.path)) return { accounts: [], notices: [] };
    let file: SettingsFile;
    try {
      const parsed = SettingsFile.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      file = parsed.data;
    } catch (error) {
      const kept = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      copyFileSync(this.path, kept);
      return {
        accounts: [],
        notices: [
          `Settings file ${basename(this.path)} could not be read (${error instanceof Error ? error.message : String(error)}). ` +
            `It was kept as ${basename(kept)}; Switchboard started without saved accounts.`,
        ],
      };
    }
    const notices: string[] = [];
    const accounts = file.accounts.map(({ sealedPassword, ...rest }) => {
      let password: string | undefined;
      if (sealedPassword !== undefined) {
        if (!this.vault) notices.push(`The password for ${rest.aor} is stored encrypted but no credential store is available; enter it again.`);
        else
          try {
            password = this.vault.open(sealedPassword);
          } catch (error) {
            notices.push(`The saved password for ${rest.aor} could not be decrypted (${error instanceof Error ? error.message : String(error)}); enter it again.`);
          }
      }
      return AccountConfig.parse({ ...rest, password });
    });
    return { accounts, notices };
  }

  save(accounts: readonly AccountConfig[]): void {
    const file: SettingsFile = {
      version: 1,
      accounts: accounts.map(({ password, ...rest }) => ({
        ...rest,
        sealedPassword: password !== undefined && this.vault ? this.vault.seal(password) : undefined,
      })),
    };
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, this.path);
  }
}
