// The page's saved audio choices: the echo canceller choice is kept across restarts, and a value
// this version cannot read is reported and kept aside, never silently replaced.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAudioSettings, saveAudioSettings, SAVED_AUDIO_SETTINGS_KEY, type SettingsStorage } from '../../../src-renderer/src/state/saved-audio-settings';

class MemoryStorage implements SettingsStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe('saved audio settings', () => {
  test('the built-in echo canceller, once chosen, is chosen again after a restart', () => {
    const storage = new MemoryStorage();
    saveAudioSettings(storage, { echoCancellation: true, echoCanceller: 'built-in', noiseSuppression: false });
    assert.deepEqual(loadAudioSettings(storage).saved, { version: 1, echoCancellation: true, echoCanceller: 'built-in', noiseSuppression: false });
  });

  test('settings saved before the choice existed read as they were (Chromium\'s canceller by default)', () => {
    const storage = new MemoryStorage();
    storage.setItem(SAVED_AUDIO_SETTINGS_KEY, JSON.stringify({ version: 1, echoCancellation: true }));
    const { saved, problem } = loadAudioSettings(storage);
    assert.equal(problem, undefined);
    assert.equal(saved?.echoCanceller, undefined);
  });

  test('an echo canceller this version does not know is reported and kept aside', () => {
    const storage = new MemoryStorage();
    const stored = JSON.stringify({ version: 1, echoCanceller: 'speex' });
    storage.setItem(SAVED_AUDIO_SETTINGS_KEY, stored);
    const { saved, problem } = loadAudioSettings(storage);
    assert.equal(saved, undefined);
    assert.match(problem ?? '', /echoCanceller: .*defaults are in use, and the unreadable copy is kept as switchboard\.audio-settings\.bad/);
    assert.equal(storage.getItem(`${SAVED_AUDIO_SETTINGS_KEY}.bad`), stored);
  });
});
