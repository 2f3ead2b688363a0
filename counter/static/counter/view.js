// Rendering of the counter page from the /counter state: current ticket, buttons, queue, parked tickets.
const $ = (id) => document.getElementById(id);
const RULES = { recall: ["called"], start: ["called"], "no-show": ["called"], requeue: ["called"],
  transfer: ["called", "serving"], finish: ["serving"], park: ["serving"], reprint: ["called", "serving"] };

export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, key) => values[key] ?? m);

/** What this counter sees of the office's state: itself, its current ticket, its queue and its parked tickets. */
export function derive(state, config) {
  if (!state) return null;
  const me = state.counters.find((c) => c.slug === config.counter) ?? { state: "closed", services: [] };
  const services = new Set(me.services);
  const here = (t) => t.counter === config.counter;
  const latest = (list, key) => list.filter(here).sort((a, b) => (b[key] ?? "").localeCompare(a[key] ?? ""))[0];
  return {
    me,
    current: latest(state.queue.serving, "started_at") ?? latest(state.queue.called, "called_at") ?? null,
    waiting: inCallingOrder(me, state.queue.waiting.filter((t) => (t.target_counter
      ? t.target_counter === config.counter : services.has(t.service)))),
    parked: state.queue.parked.filter(here),
  };
}

/** The server's `next` list is the order this counter would call its tickets in. */
function inCallingOrder(me, tickets) {
  if (!Array.isArray(me.next)) return tickets;
  const rank = new Map(me.next.map((id, i) => [id, i]));
  return [...tickets].sort((a, b) => (rank.get(a.id) ?? 1e9) - (rank.get(b.id) ?? 1e9));
}

function allowed(name, view) {
  if (!view) return false;
  switch (name) {
    case "call-next": case "call-back": return !view.current;
    case "open": return view.me.state !== "open";
    case "pause": return view.me.state === "open";
    case "close": return view.me.state !== "closed";
    default: return Boolean(view.current) && (RULES[name] ?? []).includes(view.current.state);
  }
}

function serviceName(state, config, slug) {
  const names = state.services.find((s) => s.slug === slug)?.name ?? {};
  return names[config.lang] ?? names[config.officeLanguage] ?? Object.values(names)[0] ?? slug;
}

function elapsed(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Advance every clock on the page (time since call, since start, waiting minutes). */
export function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll("[data-since]")) {
    if (!el.dataset.since) { el.textContent = "–"; continue; }
    const minutes = Math.max(0, Math.floor((now - Date.parse(el.dataset.since)) / 60000));
    el.textContent = el.dataset.unit === "minutes" ? fill(el.dataset.format, { minutes }) : elapsed(el.dataset.since, now);
  }
}

function renderCurrent(view, state, config) {
  const t = view?.current, T = config.strings;
  $("current-code").textContent = t ? t.code : T.no_ticket;
  $("current-code").classList.toggle("is-empty", !t);
  $("current-service").textContent = t ? serviceName(state, config, t.service) : "–";
  $("current-state").textContent = t ? T[`ticket_${t.state}`] ?? t.state : "–";
  $("current-calls").textContent = t ? String(t.call_count) : "–";
  $("since-call").dataset.since = t?.called_at ?? "";
  $("since-start").dataset.since = t?.started_at ?? "";
}

function renderQueue(view, state, config) {
  const rows = $("queue-rows"), template = $("queue-row");
  rows.replaceChildren(...(view?.waiting ?? []).map((t) => {
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector(".num").textContent = t.position ?? "";
    row.querySelector(".code").textContent = t.code;
    row.querySelector(".service").textContent = serviceName(state, config, t.service);
    Object.assign(row.querySelector(".clock").dataset, { since: t.created_at, unit: "minutes",
      format: config.strings.minutes });
    row.dataset.ticket = t.id;
    return row;
  }));
  const count = view?.waiting.length ?? 0;
  $("queue-count").textContent = count;
  $("queue-table").hidden = count === 0;
  $("queue-empty").hidden = count > 0;
}

function renderParked(view, state, config) {
  const list = $("parked-list"), parked = view?.parked ?? [];
  const key = parked.map((t) => `${t.id}:${t.service}`).join(",");
  if (list.dataset.key !== key) { // rebuild only on change, so a focused button keeps its focus
    list.dataset.key = key;
    list.replaceChildren(...parked.map((t, i) => parkedItem(t, i, state, config)));
  }
  $("parked-count").textContent = parked.length;
  $("parked-empty").hidden = parked.length > 0;
}

function parkedItem(t, index, state, config) {
  const item = $("parked-item").content.firstElementChild.cloneNode(true);
  item.querySelector(".code").textContent = t.code;
  item.querySelector(".service").textContent = serviceName(state, config, t.service);
  const button = item.querySelector("button");
  button.dataset.ticket = t.id;
  if (index < 9) {
    button.dataset.shortcut = String(index + 1);
    button.setAttribute("aria-keyshortcuts", String(index + 1));
    button.querySelector("kbd").textContent = String(index + 1);
  } else {
    button.querySelector("kbd").remove();
  }
  button.setAttribute("aria-label", `${button.querySelector(".action-label").textContent} ${t.code}`);
  return item;
}

function renderButtons(view, model, focused) {
  for (const button of document.querySelectorAll("#workspace button[data-action]")) {
    button.disabled = !allowed(button.dataset.action, view);
  }
  if (focused?.matches?.("button[data-action]") && (focused.disabled || !focused.isConnected)) {
    // keep the keyboard user in the flow: on to the next thing that can be done
    document.querySelector("#workspace button[data-action]:not(:disabled)")?.focus();
  }
  $("workspace").setAttribute("aria-busy", String(model.busy || !model.state));
}

export function render(model, config) {
  const focused = document.activeElement;
  const view = derive(model.state, config), T = config.strings;
  const counterState = view?.me.state;
  const badge = $("counter-state");
  badge.textContent = counterState ? T[`state_${counterState}`] ?? counterState : "";
  badge.className = `badge state-${counterState ?? "unknown"}`;
  const connection = $("connection");
  connection.dataset.state = model.connection;
  connection.textContent = model.connection === "live" ? T.live : model.connection === "offline" ? T.offline : "";
  renderCurrent(view, model.state, config);
  renderQueue(view, model.state, config);
  renderParked(view, model.state, config);
  renderButtons(view, model, focused);
  tick();
}
