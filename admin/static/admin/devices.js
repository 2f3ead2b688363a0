// The devices page: the office's kiosks and displays; admins add devices, make pairing codes and revoke.
import { api } from "/static/js/api.js";

const config = JSON.parse(document.getElementById("admin-config").textContent);
const t = config.strings;
const base = `/offices/${encodeURIComponent(config.office)}/devices`;
const $ = (id) => document.getElementById(id);
const when = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short", timeZone: config.timezone });
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => values[k] ?? m);
const time = (iso) => (iso ? when.format(new Date(iso)) : t.never);

function agentText(agent) {
  if (!agent) return t.no_agent;
  return [agent.connected ? t.connected : t.not_connected, agent.version].filter(Boolean).join(" · ");
}

function printerText(printer) {
  if (!printer) return t.no_printer;
  const job = printer.last_job;
  const last = job ? fill(t.job_line, { code: job.ticket.code, state: job.state }) : t.no_job;
  const status = t[`printer_${printer.status}`] ?? printer.status;
  return [status, printer.detail, last, job?.error?.message].filter(Boolean).join(" · ");
}

function row(device) {
  const tr = $("device-row").content.firstElementChild.cloneNode(true);
  tr.querySelector(".name").textContent = device.name;
  tr.querySelector(".kind").textContent = t[device.kind] ?? device.kind;
  tr.querySelector(".seen").textContent = time(device.last_seen);
  tr.querySelector(".agent").textContent = agentText(device.agent);
  tr.querySelector(".printer").textContent = printerText(device.printer);
  for (const button of tr.querySelectorAll("button[data-action]")) {
    button.dataset.device = device.name;
    button.textContent = button.dataset.action === "revoke" ? t.revoke : t.new_code;
    button.setAttribute("aria-label", `${button.textContent}: ${device.name}`);
  }
  return tr;
}

async function load() {
  const result = await api("GET", base);
  if (!result.ok) return showError(result.error);
  $("device-rows").replaceChildren(...result.data.map(row));
  $("devices-empty").hidden = result.data.length > 0;
  $("devices").setAttribute("aria-busy", "false");
}

function showError(error) {
  const target = $("form-error") ?? $("status");
  target.textContent = fill(t.error, { message: error.message });
}

function showPairing(pairing, heading) {
  $("pairing-heading").textContent = heading;
  $("pairing-code").textContent = pairing.code;
  $("pairing-url").href = pairing.url;
  $("pairing-url").textContent = pairing.url;
  $("pairing-qr").src = pairing.qr_svg;
  $("pairing-qr").alt = fill(t.qr_alt, { name: pairing.device });
  $("pairing-expires").textContent = time(pairing.expires_at);
  $("pairing").hidden = false;
  $("pairing-heading").focus();
}

async function add(event) {
  event.preventDefault();
  const form = event.target;
  $("form-error").textContent = "";
  const result = await api("POST", base, { name: form.elements.name.value, kind: form.elements.kind.value });
  if (!result.ok) return showError(result.error);
  form.reset();
  showPairing(result.data.pairing, fill(t.added, { name: result.data.name }));
  await load();
}

async function newCode(name) {
  const result = await api("POST", `${base}/${encodeURIComponent(name)}/pairing`);
  if (!result.ok) return showError(result.error);
  showPairing(result.data, fill(t.new_code_for, { name }));
}

function confirmRevoke(name, opener) {
  const dialog = $("revoke-dialog");
  $("revoke-name").textContent = name;
  dialog.returnValue = "";
  dialog.addEventListener("close", async () => {
    opener.focus();
    if (dialog.returnValue !== "revoke") return;
    const result = await api("POST", `${base}/${encodeURIComponent(name)}/revoke`);
    if (!result.ok) return showError(result.error);
    $("pairing").hidden = true;
    $("status").textContent = fill(t.revoked, { name });
    await load();
  }, { once: true });
  dialog.showModal();
}

if (config.canChange) {
  $("add-form").addEventListener("submit", add);
  $("device-rows").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "revoke") confirmRevoke(button.dataset.device, button);
    else newCode(button.dataset.device);
  });
}
load();
