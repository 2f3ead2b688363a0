// The citizen's phone: one ticket followed live on /status; a call vibrates and beeps where the browser allows.
import { connectLive } from "/static/js/live.js";
import { estimateText, fill } from "/static/js/estimate.js";

const $ = (id) => document.getElementById(id);
const data = JSON.parse($("status-data").textContent);
const S = data.strings;
const SHOW_COUNTER = ["called", "serving"];
let last = data.status;
let audio = null; // an AudioContext, made on the first touch so that browsers let it play

function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!audio && Context) audio = new Context();
  audio?.resume?.().catch(() => {});
}

function beep() {
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime;
  [880, 660, 880].forEach((freq, i) => { // three short tones, generated here: no audio files
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.3, start + i * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.25 + 0.2);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.25);
    osc.stop(start + i * 0.25 + 0.22);
  });
}

function alertCall(ticket) {
  try { navigator.vibrate?.([300, 150, 300, 150, 300]); } catch { /* not allowed here */ }
  beep();
  document.title = fill(S.calledTitle, { code: ticket.code, counter: ticket.counter_name ?? "" });
}

function isNewCall(ticket) {
  return ticket.state === "called" && (last.state !== "called" || ticket.call_count > last.call_count);
}

function render(ticket) {
  if (!ticket) return;
  $("main").dataset.state = ticket.state;
  $("code").textContent = ticket.code;
  $("service").textContent = ticket.service_name ?? "";
  $("state").textContent = S.states[ticket.state] ?? "";
  $("counter").textContent = ticket.counter_name ?? "";
  $("counter").hidden = !SHOW_COUNTER.includes(ticket.state) || !ticket.counter_name;
  $("waiting-facts").hidden = ticket.state !== "waiting";
  $("ahead").textContent = ticket.people_ahead ?? "";
  $("estimate").textContent = estimateText(S, ticket.estimate);
  if (isNewCall(ticket)) alertCall(ticket);
  last = ticket;
}

function onConnection(status) {
  $("connection").hidden = status === "connected";
  document.body.dataset.live = status;
}

$("alerts").addEventListener("click", () => {
  unlockAudio();
  $("alerts").setAttribute("aria-pressed", "true");
  try { navigator.vibrate?.(100); } catch { /* not allowed here */ }
});
document.addEventListener("pointerdown", unlockAudio, { once: true });
render(data.status);
connectLive("/status", {
  auth: { ticket: data.token },
  onSnapshot: (snap) => render(snap.ticket),
  onState: (state) => render(state.ticket),
  onConnection,
});
