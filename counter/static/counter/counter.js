// The clerk's working page: live state from the /counter namespace, every action through the REST API.
import { api } from "/static/js/api.js";
import { connectLive } from "/static/js/live.js";
import { bindShortcuts, bindTransferDialog } from "./keys.js";
import { printerBanner, reprintTracker } from "./printers.js";
import { derive, fill, render, tick } from "./view.js";

const config = JSON.parse(document.getElementById("counter-config").textContent);
const T = config.strings;
const model = { state: null, minSeq: 0, busy: false, connection: "connecting", resyncing: false };
const counterPath = `/offices/${encodeURIComponent(config.office)}/counters/${encodeURIComponent(config.counter)}`;
const errorBox = document.getElementById("error");
const statusBox = document.getElementById("status");
const renderPrinters = printerBanner(document.getElementById("printers"), T);

const post = (path, body) => api("POST", path, body);
const REQUESTS = {
  "call-next": () => post(`${counterPath}/call-next`),
  "call-back": (_t, extra) => post(`${counterPath}/call`, { ticket: extra.ticket }),
  requeue: (t) => post(`/tickets/${t.id}/requeue`, { position: "back" }),
  transfer: (t, extra) => post(`/tickets/${t.id}/transfer`, extra),
  reprint: (t) => post(`/tickets/${t.id}/reprint`),
  open: () => post(`${counterPath}/open`),
  pause: () => post(`${counterPath}/pause`),
  close: () => post(`${counterPath}/close`),
};
const COUNTER_ACTIONS = new Set(["open", "pause", "close"]);

function request(name, ticket, extra) {
  const send = REQUESTS[name] ?? ((t) => post(`/tickets/${t.id}/${name}`));
  return send(ticket, extra);
}

function update() {
  render(model, config);
  renderPrinters(model.state?.printers);
}

function say(text) {
  statusBox.textContent = text;
}

function mergeTicket(ticket) {
  const queue = model.state.queue;
  for (const key of Object.keys(queue)) queue[key] = queue[key].filter((t) => t.id !== ticket.id);
  queue[ticket.state]?.push(ticket);
}

function mergeCounter(counter) {
  model.state.counters = model.state.counters.map((c) => (c.slug === counter.slug ? { ...c, ...counter } : c));
}

const reprints = reprintTracker((job) => {
  const values = { code: job.ticket.code, device: job.device, message: job.error?.message ?? "" };
  if (job.state === "printed") return say(fill(T.reprint_printed, values));
  errorBox.textContent = fill(T.reprint_failed, values);
});

function succeeded(name, label, result) {
  errorBox.textContent = "";
  if (result.status === 204) return say(T.none_waiting);
  if (name === "reprint") {
    say(fill(T.reprint_sent, { code: result.data.ticket.code, device: result.data.device }));
    return reprints.sent(result.data);
  }
  if (COUNTER_ACTIONS.has(name)) {
    mergeCounter(result.data);
    return say(fill(T.counter_msg, { state: T[`state_${result.data.state}`] ?? result.data.state }));
  }
  mergeTicket(result.data);
  const called = name === "call-next" || name === "call-back" || name === "recall";
  say(fill(called ? T.called_msg : T.done_msg, { code: result.data.code, action: label }));
}

function failed(name, label, result) {
  const message = result.status === 0 ? T.network_error : result.status === 401 ? T.signed_out
    : result.error?.code === "no_printer" ? T.no_printer : result.error?.message ?? String(result.status);
  errorBox.textContent = fill(T.error_msg, { action: label, message });
  say("");
  if (name === "reprint") return; // nothing on the page depends on it: no resync needed
  model.resyncing = true;
  socket.emit("resync"); // never stay in a wrong state: start over from the server's snapshot
}

async function perform(name, label, extra = {}) {
  if (model.busy || !model.state) return;
  const ticket = derive(model.state, config).current;
  const seqBefore = model.state.seq;
  model.busy = true;
  update();
  const result = await request(name, ticket, extra);
  model.busy = false;
  if (result.ok) {
    model.minSeq = Math.max(model.minSeq, seqBefore + 1); // older pushed states lack this change
    succeeded(name, label, result);
  } else {
    failed(name, label, result);
  }
  update();
}

function accept(state, force) {
  if (!force && state.seq < model.minSeq) return;
  model.state = state;
  model.minSeq = state.seq;
  update();
}

const socket = connectLive("/counter", {
  auth: { office: config.office },
  onSnapshot: (snap) => {
    accept(snap, true);
    if (model.resyncing) say(T.resynced);
    model.resyncing = false;
  },
  onState: (state) => accept(state, false),
  onDelta: (_name, delta) => { if (delta.print) reprints.outcome(delta.print); },
  onConnection: (status, err) => {
    model.connection = status === "connected" ? "live" : "offline";
    if (status === "error" && err?.data?.message) {
      errorBox.textContent = fill(T.session_ended, { message: err.data.message });
    }
    update();
  },
});

const labelOf = (button) => button.querySelector(".action-label").textContent.replace(/[\s.…]+$/u, "");
const dialog = document.getElementById("transfer-dialog");
const openTransfer = bindTransferDialog({
  dialog,
  opener: document.querySelector('[data-action="transfer"]'),
  prepare: () => derive(model.state, config).current,
  submit: (body) => perform("transfer", labelOf(document.querySelector('[data-action="transfer"]')), body),
});

document.getElementById("workspace").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || button.disabled) return;
  const name = button.dataset.action;
  if (name === "transfer") return openTransfer();
  perform(name, labelOf(button), button.dataset.ticket ? { ticket: Number(button.dataset.ticket) } : {});
});

bindShortcuts(document.getElementById("workspace"), dialog);
setInterval(tick, 1000); // the clocks only: all data comes pushed over the socket
update();
