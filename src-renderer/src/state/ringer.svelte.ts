/**
 * Sounds incoming calls (ringer-mode.ts decides what; alert-tones.ts is how it sounds), from the
 * call states the core reports: the ring on the ringing device (AudioSettingsState.ringDeviceId),
 * call-waiting beeps on the call speaker (outputDeviceId). Answering, declining, the caller giving
 * up or any other end of the incoming call stops it; a device change moves a sounding tone.
 * A tone that cannot play (autoplay refused, device gone) is shown as `problem`; the call itself
 * is still shown and can be answered.
 * Ownership: owns its two players. Renderer main thread.
 */
import type { CallSnapshot } from '@common/contract/contract';
import type { ContractClient } from '@common/contract/contract-client';
import { AlertPlayer } from '../audio/alert-player';
import { CALL_WAITING, RING } from '../audio/alert-tones';
import { ringerModeOf, type RingerMode } from '../lib/ringer-mode';
import type { AudioSettingsState } from './audio-settings.svelte';
import { errorText } from './error-text';

export interface RingerPlayers {
  ring: AlertPlayer;
  callWaiting: AlertPlayer;
}

export class RingerState {
  mode = $state<RingerMode>('off');
  problem = $state<string | undefined>(undefined);
  // Bookkeeping, not UI state: the calls this ringer has seen, by id.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly states = new Map<string, Pick<CallSnapshot, 'state' | 'hold'>>();

  constructor(
    client: ContractClient,
    private readonly settings: AudioSettingsState,
    private readonly players: RingerPlayers = { ring: new AlertPlayer(RING), callWaiting: new AlertPlayer(CALL_WAITING) },
  ) {
    client.on('call.state', (snapshot) => this.onCall(snapshot));
    client.call('call.list', {}).then(
      ({ calls }) => {
        // An event may have come first, and is newer.
        for (const call of calls) if (!this.states.has(call.callId)) this.onCall(call);
      },
      (error: unknown) => console.warn(`Switchboard ringer: could not list calls: ${errorText(error)}`),
    );
    settings.onChange((change) => {
      if (change.kind === 'ring' || change.kind === 'output') this.apply();
    });
  }

  private onCall(call: CallSnapshot): void {
    if (call.state === 'ended') this.states.delete(call.callId);
    else this.states.set(call.callId, { state: call.state, hold: call.hold });
    this.mode = ringerModeOf(this.states.values());
    this.apply();
  }

  /** Makes the players sound what `mode` says, on the devices chosen now. */
  private apply(): void {
    const { ring, callWaiting } = this.players;
    if (this.mode !== 'ring') ring.stop();
    if (this.mode !== 'call-waiting') callWaiting.stop();
    if (this.mode === 'off') {
      this.problem = undefined;
      return;
    }
    const [player, device] = this.mode === 'ring' ? [ring, this.settings.ringDeviceId] : [callWaiting, this.settings.outputDeviceId];
    player.start(device).then(
      () => {
        this.problem = undefined;
      },
      (error: unknown) => {
        this.problem = `The ${this.mode === 'ring' ? 'ringtone' : 'call-waiting tone'} could not play: ${errorText(error)}`;
        console.error(`Switchboard ringer: ${this.problem}`);
      },
    );
  }
}
