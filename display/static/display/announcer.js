// Announcements one after another through one reusable <audio> element: the gong, then the call in each
// language, then the next call. Listeners are added once; nothing grows while the screen runs for days.
const PAUSE_MS = 600;     // silence between two calls
const STALL_MS = 15_000;  // a sound that neither ends nor fails is given up
const MAX_QUEUE = 8;      // after a long outage the oldest calls are only shown, not read out minutes late

export class AnnouncementQueue {
  #audio;
  #onStart;
  #onDone;
  #queue = [];
  #busy = false;
  #playing = 0;   // id of the sound now playing, so late events of an earlier one are ignored
  #settle = null;
  #timer = 0;

  constructor(audio, { onStart, onDone } = {}) {
    this.#audio = audio;
    this.#onStart = onStart;
    this.#onDone = onDone;
    audio.addEventListener("ended", () => this.#finish(this.#playing));
    audio.addEventListener("error", () => this.#finish(this.#playing));
  }

  // item: {sounds: [url, ...], ...}; onStart(item) and onDone(item) frame its sounds
  add(item) {
    this.#queue.push(item);
    if (this.#queue.length > MAX_QUEUE) this.#queue.shift();
    if (!this.#busy) this.#run();
  }

  async #run() {
    this.#busy = true;
    while (this.#queue.length) {
      const item = this.#queue.shift();
      this.#onStart?.(item);
      for (const url of item.sounds) await this.#play(url);
      this.#onDone?.(item);
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
    this.#busy = false;
  }

  #play(url) {
    const id = ++this.#playing;
    return new Promise((resolve) => {
      this.#settle = resolve;
      this.#timer = setTimeout(() => this.#finish(id), STALL_MS);
      this.#audio.src = url;
      this.#audio.play().catch(() => this.#finish(id)); // blocked autoplay or a failed download: skip it
    });
  }

  #finish(id) {
    if (id !== this.#playing || !this.#settle) return;
    clearTimeout(this.#timer);
    const settle = this.#settle;
    this.#settle = null;
    settle();
  }
}
