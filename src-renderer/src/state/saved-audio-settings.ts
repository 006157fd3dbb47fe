/**
 * The user's audio choices, kept across restarts in the page's own storage (localStorage).
 * The page's, not the core's settings file: a device id means something only to the origin that
 * enumerated it (Chromium salts device ids per origin), so it is stored where it was seen.
 *
 * Contract: load() never throws. A stored value that cannot be read is reported (`problem`) and kept
 * as SAVED_AUDIO_SETTINGS_KEY + '.bad' before anything else is written; defaults are used meanwhile.
 * save() throws if the storage refuses (disabled, full), with the browser's reason.
 */
import { z } from 'zod';

export const SAVED_AUDIO_SETTINGS_KEY = 'switchboard.audio-settings';

/** What is used of the page's Storage (localStorage satisfies it; tests pass their own). */
export interface SettingsStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const SavedAudioSettings = z.object({
  version: z.literal(1),
  /** '' = the system default. */
  inputDeviceId: z.string().optional(),
  outputDeviceId: z.string().optional(),
  ringDeviceId: z.string().optional(),
  echoCancellation: z.boolean().optional(),
  /** Which canceller runs when echo cancellation is on (audio-settings.svelte.ts). */
  echoCanceller: z.enum(['chromium', 'built-in']).optional(),
  noiseSuppression: z.boolean().optional(),
  autoGainControl: z.boolean().optional(),
});
export type SavedAudioSettings = z.infer<typeof SavedAudioSettings>;

export function loadAudioSettings(storage: SettingsStorage | undefined): { saved?: SavedAudioSettings; problem?: string } {
  if (!storage) return {};
  let raw: string | null;
  try {
    raw = storage.getItem(SAVED_AUDIO_SETTINGS_KEY);
  } catch (error) {
    return { problem: `Saved audio settings cannot be read here (${error instanceof Error ? error.message : String(error)}); defaults are in use.` };
  }
  if (raw === null) return {};
  let why: string;
  try {
    const parsed = SavedAudioSettings.safeParse(JSON.parse(raw));
    if (parsed.success) return { saved: parsed.data };
    why = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`).join('; ');
  } catch (error) {
    why = error instanceof Error ? error.message : String(error);
  }
  const bad = `${SAVED_AUDIO_SETTINGS_KEY}.bad`;
  try {
    storage.setItem(bad, raw);
  } catch (error) {
    return { problem: `Saved audio settings were unreadable (${why}) and could not be kept aside (${error instanceof Error ? error.message : String(error)}); defaults are in use.` };
  }
  return { problem: `Saved audio settings were unreadable (${why}); defaults are in use, and the unreadable copy is kept as ${bad}.` };
}

export function saveAudioSettings(storage: SettingsStorage | undefined, settings: Omit<SavedAudioSettings, 'version'>): void {
  storage?.setItem(SAVED_AUDIO_SETTINGS_KEY, JSON.stringify({ version: 1, ...settings } satisfies SavedAudioSettings));
}
