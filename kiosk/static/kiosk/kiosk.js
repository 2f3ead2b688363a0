// The touch kiosk: live services from /kiosk, one tap makes one ticket (idempotent by request_id),
// the ticket screen with its QR code and print status, and an out-of-order screen while the server is unreachable.
import { api } from "/static/js/api.js";
import { connectLive } from "/static/js/live.js";
import { printStatus } from "./printing.js";
import { estimateText, fill } from "/static/js/estimate.js";
import { renderServices, serviceName } from "./services.js";

const $ = (id) => document.getElementById(id);
const data = JSON.parse($("kiosk-data").textContent);
const S = data.strings;
const RETRY_DELAYS = [0, 600, 1500, 3000]; // ms before each attempt of one tap, all with its request_id
const GRACE_MS = 800; // touches right after a screen appears are the rest of a double tap
const IDLE_SECONDS = 60; // back to the default language when nobody touches the start screen
const OFFLINE_DELAY_MS = 1200; // a short blip of the connection does not close the kiosk
const LOST_PAUSE_MS = 3000; // after a failed request the notice stays at least this long
const FAILED_SECONDS = 60; // after a print failure, time to write the number down (again after each touch)

let state = data.state;
let busy = false;
let online = true;
let shownAt = 0;
let returnTimer = null;
let offlineTimer = null;
const refused = new Map(); // service -> reason the server gave, for servers whose state does not say so

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function newRequestId() {
  if (crypto.randomUUID) return crypto.randomUUID(); // only in secure contexts (https, localhost)
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function render() {
  renderServices($("services"), { state, lang: data.lang, defaultLang: data.defaultLang, strings: S, refused,
    locked: busy || !online, onTap: issue });
  $("office-closed").hidden = Boolean(state.office.issuing);
}

function show(screen) {
  for (const id of ["start", "ticket", "refusal"]) $(id).hidden = id !== screen;
  document.body.dataset.screen = screen;
  shownAt = performance.now();
}

const returnSeconds = () => Number($("main").dataset.return) || 20;

function armReturn(seconds) {
  clearTimeout(returnTimer);
  returnTimer = setTimeout(goStart, seconds * 1000);
}

/** The ticket screen stays while its ticket prints, and longer after a failure. */
function onPrintPhase(phase) {
  if (document.body.dataset.screen !== "ticket") return;
  if (phase === "pending") clearTimeout(returnTimer); // the outcome (or its absence) decides
  else armReturn(phase === "failed" ? Math.max(FAILED_SECONDS, returnSeconds()) : returnSeconds());
}

const printing = printStatus({ strings: S.print, screen: $("ticket"), status: $("print-status"),
  alert: $("print-alert"), retry: $("print-retry"), title: $("ticket-title") }, onPrintPhase);

function goStart() {
  clearTimeout(returnTimer);
  printing.clear();
  if (data.lang !== data.defaultLang && online) {
    location.assign(data.startUrl); // the default language is a fresh page; the cookie keeps the pairing
    return;
  }
  show("start");
  render();
  $("start-title").focus();
}

function setBusy(value) {
  busy = value;
  $("busy").textContent = value ? S.busy : "";
  render();
}

async function issueWithRetries(body) {
  let result;
  for (const delay of RETRY_DELAYS) {
    if (delay) await wait(delay);
    result = await api("POST", `/offices/${encodeURIComponent(data.office)}/tickets`, body);
    if (result.ok || (result.status !== 0 && result.status < 500)) return result;
  }
  return result;
}

async function issue(slug) {
  if (busy || !online) return; // a second tap while the first one runs is the same tap
  setBusy(true);
  const result = await issueWithRetries({ service: slug, lang: data.lang, request_id: newRequestId() });
  setBusy(false);
  if (result.ok) showTicket(result.data);
  else if ([404, 409, 422].includes(result.status)) showRefusal(slug, result.error);
  else lostServer();
}

function showTicket(ticket) {
  const token = new URL(ticket.status_url, location.href).pathname.split("/").filter(Boolean).pop();
  $("ticket-code").textContent = ticket.code;
  $("ticket-service").textContent = ticket.service_name;
  $("ticket-ahead").textContent = String(ticket.people_ahead ?? 0);
  $("ticket-estimate").textContent = estimateText(S, ticket.estimate) || "–";
  $("ticket-qr").src = `/t/${encodeURIComponent(token)}/qr.svg`;
  show("ticket");
  $("ticket-title").focus();
  printing.track(ticket.print ?? null);
}

function showRefusal(slug, error) {
  const code = error?.code in S.reasons ? error.code : "other";
  if (code !== "other") refused.set(slug, code);
  $("refusal-text").textContent = S.refused;
  const svc = state.services.find((s) => s.slug === slug);
  const name = svc ? serviceName(svc, { lang: data.lang, defaultLang: data.defaultLang }) : "";
  $("refusal-reason").textContent = fill(S.reasons[code], { service: name });
  show("refusal");
  $("refusal-title").focus();
  armReturn(Math.min(returnSeconds(), 10));
}

function setOnline(value) {
  clearTimeout(offlineTimer);
  offlineTimer = null;
  online = value;
  $("out-of-order").hidden = value;
  $("main").inert = !value;
  document.body.dataset.live = value ? "connected" : "offline";
  render();
}

function lostServer() {
  setOnline(false);
  // Back only through a fresh connection (and its snapshot); the pause keeps the notice readable.
  setTimeout(() => socket.disconnect().connect(), LOST_PAUSE_MS);
}

function onConnection(status) {
  if (status === "connected") return setOnline(true);
  if (status === "error" && !socket.active) setTimeout(() => socket.connect(), 5000); // refused: try again later
  if (online && !offlineTimer) offlineTimer = setTimeout(() => { offlineTimer = null; setOnline(false); }, OFFLINE_DELAY_MS);
}

const languagesKey = (office) => JSON.stringify(office?.languages ?? []);
const pageLanguages = languagesKey(state.office);

/** An admin renamed the office or changed its kiosk languages: the name at once, new languages on the start screen. */
function applyOffice(office) {
  if (languagesKey(office) !== pageLanguages && document.body.dataset.screen === "start" && !busy) {
    location.assign(data.startUrl);
    return;
  }
  const title = $("start-title");
  if (office?.name && title.textContent !== office.name) {
    document.title = document.title.replace(title.textContent, office.name);
    title.textContent = office.name;
  }
}

function onState(next) {
  state = next;
  applyOffice(next.office);
  render();
}

function onDelta(_name, delta) {
  if (delta.print) printing.outcome(delta.print);
}

function onInteraction() {
  const screen = document.body.dataset.screen;
  const phase = printing.phase();
  if (screen === "ticket" && (phase === "pending" || phase === "failed")) { // leave only by "Done"
    if (phase === "failed") armReturn(Math.max(FAILED_SECONDS, returnSeconds())); // still reading or writing
    return;
  }
  if (screen !== "start" && performance.now() - shownAt > GRACE_MS) goStart();
  else if (screen === "start" && data.lang !== data.defaultLang) armReturn(IDLE_SECONDS);
}

document.addEventListener("pointerdown", onInteraction);
document.addEventListener("keydown", onInteraction);
const afterGrace = () => { if (performance.now() - shownAt > GRACE_MS) goStart(); };
$("ticket-done").addEventListener("click", afterGrace);
$("refusal-done").addEventListener("click", afterGrace);
show("start");
render();
if (data.lang !== data.defaultLang) armReturn(IDLE_SECONDS);
const onSnapshot = (snap) => {
  onState(snap);
  if (printing.phase() === "pending") printing.recheck(); // an outcome may have gone by while away
};
const socket = connectLive("/kiosk", { auth: { office: data.office }, onSnapshot, onState, onDelta, onConnection });
// Revoked, or refused on reconnect: reloading shows the page's "not paired" state instead of retrying forever.
let connectedOnce = false;
socket.on("connect", () => { connectedOnce = true; });
socket.on("revoked", () => location.reload());
socket.on("connect_error", (err) => { if (connectedOnce && err?.data?.code === "unauthorized") location.reload(); });
