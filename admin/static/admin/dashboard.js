// The live supervisor dashboard: every state pushed over /supervisor replaces the view; the clocks tick here,
// on the server's time (offset from the `now` of each state). An alert when a service's longest wait passes its
// target: announced once per crossing, and listed in a banner for as long as it lasts. Never polls.
import { connectLive } from "/static/js/live.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("dashboard-config").textContent);
const T = config.strings;
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, key) => values[key] ?? m);

let offsetMs = config.serverTime - Date.now();
const serverNow = () => Date.now() + offsetMs;
let state = null;
let seenSeq = -1;
let over = new Set(); // services whose longest wait is past the target, as last announced
let resyncing = false;

function name(service) {
  const names = service.names ?? {};
  return names[config.lang] ?? names[config.officeLanguage] ?? service.name ?? service.slug;
}

function clock(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function timeOfDay(iso) {
  return new Intl.DateTimeFormat(config.lang, { hour: "2-digit", minute: "2-digit", timeZone: config.timezone })
    .format(new Date(iso));
}

/** ok, near, over (against the target), empty (nobody waits) or none (the service has no target). */
export function level(service, now, nearShare = config.nearTarget) {
  if (!service.oldest_waiting_at) return "empty";
  if (!service.target_wait) return "none";
  const share = (now - Date.parse(service.oldest_waiting_at)) / (service.target_wait * 60000);
  return share >= 1 ? "over" : share >= nearShare ? "near" : "ok";
}

function waitedMs(service, now) {
  return service.oldest_waiting_at ? now - Date.parse(service.oldest_waiting_at) : null;
}

function estimateText(service) {
  if (!service.issuing) return T.not_issuing;
  const e = service.estimate;
  if (e?.reason === "no_counter_open") return T.no_counter_open;
  if (e?.low == null || e?.high == null) return "–";
  if (e.low === 0 && e.high <= 1) return T.soon; // as the kiosk and the display say it
  return e.low === e.high ? fill(T.minutes, { minutes: e.low }) : fill(T.range, { low: e.low, high: e.high });
}

function cutoffText(cutoff) {
  if (!cutoff) return "–";
  const at = typeof cutoff === "string" ? cutoff : cutoff.at ?? cutoff.time;
  if (!at) return "–";
  if (/^\d{1,2}:\d{2}$/.test(at)) return at;
  const text = timeOfDay(at);
  return Date.parse(at) < serverNow() ? fill(T.cutoff_passed, { time: text }) : text;
}

/** Whether the office stops issuing at the cut-off or only forecasts it (its calling policy). */
function cutoffNote() {
  const note = document.createElement("small");
  note.className = "hint cutoff-note";
  note.textContent = state.office?.stop_at_cutoff ? T.cutoff_stops : T.cutoff_forecast;
  return note;
}

function serviceRow(service) {
  const row = $("service-row").content.firstElementChild.cloneNode(true);
  row.dataset.service = service.slug;
  row.querySelector(".prefix").textContent = service.prefix;
  row.querySelector(".label").textContent = name(service);
  row.querySelector(".waiting").textContent = String(service.waiting);
  row.querySelector(".target").textContent = service.target_wait
    ? fill(T.of_target, { minutes: service.target_wait }) : T.no_target;
  row.querySelector(".estimate").textContent = estimateText(service);
  row.querySelector(".open").textContent = String(service.open_counters);
  const cutoff = row.querySelector(".cutoff");
  cutoff.textContent = cutoffText(service.cutoff);
  if (service.cutoff) cutoff.append(" ", cutoffNote());
  return row;
}

function counterRow(counter) {
  const row = $("counter-row").content.firstElementChild.cloneNode(true);
  row.dataset.counter = counter.slug;
  row.dataset.state = counter.state;
  row.querySelector(".name").textContent = counter.name;
  row.querySelector(".state-icon").classList.add(`state-${counter.state}`);
  row.querySelector(".state-word").textContent = T[`state_${counter.state}`] ?? counter.state;
  row.querySelector(".clerk").textContent = counter.clerk ?? T.nobody;
  const t = counter.ticket;
  row.querySelector(".ticket").textContent = t
    ? fill(T.ticket_line, { code: t.code, state: T[`ticket_${t.state}`] ?? t.state }) : T.no_ticket;
  row.querySelector(".since .clock").dataset.since = (t ? t.since : counter.since) ?? "";
  return row;
}

function render() {
  $("service-rows").replaceChildren(...state.services.map(serviceRow));
  $("counter-rows").replaceChildren(...state.counters.map(counterRow));
  $("services").setAttribute("aria-busy", "false");
  $("counters").setAttribute("aria-busy", "false");
  tick();
}

/** Advance the clocks and the levels; announce services that have just passed their target. */
function tick() {
  if (!state) return;
  const now = serverNow();
  const byslug = new Map(state.services.map((s) => [s.slug, s]));
  for (const row of $("service-rows").children) {
    const service = byslug.get(row.dataset.service);
    const lvl = level(service, now);
    row.dataset.level = lvl;
    row.querySelector(".level-icon").className = `level-icon level-${lvl}`;
    row.querySelector(".level-word").textContent = T[`level_${lvl}`];
    const waited = waitedMs(service, now);
    row.querySelector(".longest .clock").textContent = waited === null ? "–" : clock(waited);
  }
  for (const el of $("counter-rows").querySelectorAll(".clock")) {
    el.textContent = el.dataset.since ? clock(now - Date.parse(el.dataset.since)) : "–";
  }
  alertOverTarget(state.services.filter((s) => level(s, now) === "over"));
}

function alertOverTarget(services) {
  const now = new Set(services.map((s) => s.slug));
  const crossed = services.filter((s) => !over.has(s.slug));
  over = now;
  $("over-target").hidden = services.length === 0;
  const key = services.map((s) => s.slug).join(",");
  const list = $("over-list");
  if (list.dataset.key !== key) {
    list.dataset.key = key;
    list.replaceChildren(...services.map((s) => {
      const li = document.createElement("li");
      li.textContent = `${s.prefix} ${name(s)}`.trim();
      return li;
    }));
  }
  if (crossed.length) say(fill(T.over_announce, { services: crossed.map(name).join(", ") }));
}

function say(text) {
  const region = $("announce");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 100); // a change, even when the same text comes again
}

function accept(next, { snapshot = false } = {}) {
  if (!snapshot && next.seq < seenSeq) return; // overtaken by newer news (several server processes)
  seenSeq = next.seq;
  if (next.now) offsetMs = Date.parse(next.now) - Date.now();
  state = next;
  render();
}

function setConnection(status) {
  const box = $("connection");
  box.dataset.state = status;
  $("connection-text").textContent = T[status] ?? status;
}

connectLive("/supervisor", {
  auth: { office: config.office },
  onSnapshot: (snap) => {
    accept(snap, { snapshot: true });
    setConnection("live");
    if (resyncing) say(T.resynced);
    resyncing = false;
  },
  onState: (next) => accept(next),
  onConnection: (status) => {
    if (status === "connected") return; // "live" once the snapshot is in
    if (state) resyncing = true;
    setConnection("offline");
  },
});
setInterval(tick, 1000); // the clocks only: all data comes pushed over the socket
