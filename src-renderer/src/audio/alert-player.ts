/**
 * Plays one alert tone (alert-tones.ts) in a loop on a chosen output device, through an <audio>
 * element: HTMLMediaElement.setSinkId picks the device (the ring may go to the speakers while the
 * call audio goes to a headset), and no user gesture is needed in the app (Electron's autoplay
 * default); a browser on dev:web may refuse, and then start() rejects with its reason.
 * The element sits in the page, hidden, as `audio[data-alert=<tone name>]`, so what sounds can be
 * inspected.
 *
 * States: stopped --start(sinkId)--> playing --stop()--> stopped. start() while playing only moves
 * the tone to `sinkId`. Ownership: owns its element and the tone's blob URL. Renderer main thread.
 */
import { alertToneWav, type AlertTone } from './alert-tones';

export class AlertPlayer {
  private readonly element: HTMLAudioElement;
  private playing = false;

  constructor(
    readonly tone: AlertTone,
    doc: Document = document,
  ) {
    this.element = doc.createElement('audio');
    this.element.loop = true;
    this.element.hidden = true;
    this.element.dataset.alert = tone.name;
    // Lives as long as the page, like the element.
    this.element.src = URL.createObjectURL(new Blob([alertToneWav(tone)], { type: 'audio/wav' }));
    doc.body.append(this.element);
  }

  /** Whether the browser can choose this element's output device. */
  static get canChooseDevice(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /** Plays from the start of the cycle on `sinkId` ('' = the system default), or moves a playing tone there. */
  async start(sinkId: string): Promise<void> {
    if (AlertPlayer.canChooseDevice && this.element.sinkId !== sinkId) await this.element.setSinkId(sinkId);
    if (this.playing) return;
    this.playing = true;
    this.element.currentTime = 0;
    try {
      await this.element.play();
    } catch (error) {
      // stop() while play() was pending rejects it (AbortError): that is the stop, not a failure.
      if (!this.playing) return;
      this.playing = false;
      throw error;
    }
  }

  stop(): void {
    if (!this.playing) return;
    this.playing = false;
    this.element.pause();
  }
}
