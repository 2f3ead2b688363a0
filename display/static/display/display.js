// The waiting-room display: calls and waiting counts from /display, each new call shown at the top and
// announced (gong, office language, ticket language). Built to run for days: capped lists, replaced nodes.
import { estimateText } from "/static/js/estimate.js";
import { connectLive } from "/static/js/live.js";
import { AnnouncementQueue } from "./announcer.js";
import { callLanguages, mergeCalls, missedCalls, spokenCode } from "./calls.js";
import { startClock } from "./clock.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("display-config").textContent);
const offsetMs = config.serverTime - Date.now(); // the server's clock decides what "60 s ago" means
const serverNow = () => Date.now() + offsetMs;

let calls = [];           // newest first, at most MAX_CALLS
let lastAnnounced = null; // seq up to which calls have been announced (or deliberately not)
let seenSeq = -1;         // newest seq on screen, from a state or a call
let callsKey = "";
let waitingKey = "";
let announcing = null; // the code being read out; its line blinks meanwhile

const region = $("announcement");
const queue = new AnnouncementQueue($("player"), {
  onStart: (item) => { markAnnouncing(item.code); tellScreenReaders(item.text); },
  onDone: () => markAnnouncing(null),
});

function markAnnouncing(code) {
  announcing = code;
  for (const li of $("calls").children) li.classList.toggle("announcing", li.dataset.code === code);
}

function tellScreenReaders(text) {
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 100); // a change, even when a recall repeats the text
}

function callText(call) {
  // Functions as replacements: a "$&" in a counter's name is text, not a replacement pattern.
  return config.strings.call.replace("{code}", () => spokenCode(call.code)).replace("{counter}", () => call.counter_name);
}

function announce(call) {
  const url = (lang) => `${config.urls.call}?${new URLSearchParams({ code: call.code, counter: call.counter, lang })}`;
  const langs = callLanguages(config.language, call.lang, config.speech);
  queue.add({ code: call.code, sounds: [config.urls.gong, ...langs.map(url)], text: callText(call) });
}

// A snapshot (on every (re)connect) or a state (after every batch of changes) replaces the whole view.
/** An admin renamed the office: the new name at once; a new time zone or language needs the page anew. */
function applyOffice(office) {
  if (!office) return;
  if ((office.timezone && office.timezone !== config.timezone) || (office.language && office.language !== config.language)) {
    location.reload();
    return;
  }
  const heading = document.querySelector(".office-name");
  if (heading.textContent !== office.name) {
    document.title = document.title.replace(heading.textContent, office.name);
    heading.textContent = office.name;
  }
}

function onState(state, { snapshot = false } = {}) {
  if (!snapshot && state.seq < seenSeq) return; // overtaken by newer news (several server processes)
  seenSeq = state.seq;
  applyOffice(state.office);
  const incoming = mergeCalls([], state.calls);
  if (lastAnnounced === null || (snapshot && state.seq < lastAnnounced)) {
    lastAnnounced = state.seq; // first load (or a new database): show the history, announce nothing
  } else {
    missedCalls(incoming, lastAnnounced, serverNow()).forEach(announce); // missed during a gap
    lastAnnounced = Math.max(lastAnnounced, state.seq);
  }
  calls = incoming;
  renderCalls();
  renderWaiting(state.waiting);
}

function onDelta(name, delta) {
  seenSeq = Math.max(seenSeq, delta.seq);
  if (name !== "ticket_called") return; // counts come with the `state` that follows every batch
  calls = mergeCalls(calls, [delta]);
  if (delta.seq > lastAnnounced) {
    lastAnnounced = delta.seq;
    announce(delta);
  }
  renderCalls();
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function callItem(call, index) {
  const li = el("li", "call");
  li.dataset.code = call.code;
  li.classList.toggle("latest", index === 0);
  li.classList.toggle("announcing", call.code === announcing);
  const arrow = el("span", "call-arrow", "→");
  arrow.setAttribute("aria-hidden", "true");
  li.append(el("span", "call-code", call.code), arrow, el("span", "call-counter", call.counter_name));
  if (call.recall) li.append(el("span", "call-again", config.strings.again));
  return li;
}

function renderCalls() {
  const key = calls.map((c) => c.seq).join(",");
  if (key === callsKey) return;
  callsKey = key;
  $("calls").replaceChildren(...calls.map(callItem));
  $("no-calls").hidden = calls.length > 0;
  $("calls-head").hidden = calls.length === 0;
}

function serviceName(names, slug) {
  return names?.[config.language] ?? Object.values(names ?? {})[0] ?? slug;
}

function renderWaiting(waiting) {
  const key = JSON.stringify(waiting);
  if (key === waitingKey) return;
  waitingKey = key;
  $("waiting").replaceChildren(...waiting.map((w) => {
    const li = el("li", "waiting-item");
    const prefix = el("span", "waiting-prefix", w.prefix || "·");
    prefix.setAttribute("aria-hidden", "true");
    // The name, and under it the estimated wait of a ticket drawn now (none while the service issues none).
    const label = el("span", "waiting-label");
    label.append(el("span", "waiting-name", serviceName(w.name, w.service)));
    const estimate = estimateText(config.strings, w.estimate);
    if (estimate) label.append(el("span", "waiting-estimate", `${config.strings.estimatedWait}: ${estimate}`));
    li.append(prefix, label, el("span", "waiting-count", String(w.waiting)));
    return li;
  }));
}

function setConnection(online) {
  $("connection").hidden = online;
  document.documentElement.dataset.connection = online ? "online" : "offline";
}

startClock($("clock-time"), $("clock-date"), { locale: config.language, timeZone: config.timezone, offsetMs });
let connectedOnce = false;
const socket = connectLive("/display", {
  auth: { office: config.office },
  onSnapshot: (snap) => { onState(snap, { snapshot: true }); setConnection(true); },
  onState,
  onDelta,
  onConnection: (status) => {
    if (status === "connected") connectedOnce = true;
    else setConnection(false);
  },
});
// Revoked, or refused on reconnect: reloading shows the page's "not paired" state instead of retrying forever.
socket.on("revoked", () => location.reload());
socket.on("connect_error", (err) => { if (connectedOnce && err?.data?.code === "unauthorized") location.reload(); });
