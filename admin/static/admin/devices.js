// The devices page: the office's kiosks and displays; admins add devices, make pairing codes, set a kiosk's
// printer and revoke.
import { api } from "/static/js/api.js";
import { checkFields, clearErrors, showError as showFieldError } from "./forms.js";

const config = JSON.parse(document.getElementById("admin-config").textContent);
const t = config.strings;
const pt = JSON.parse(document.getElementById("printer-strings").textContent);
const base = `/offices/${encodeURIComponent(config.office)}/devices`;
const $ = (id) => document.getElementById(id);
const when = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short", timeZone: config.timezone });
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => values[k] ?? m);
const time = (iso) => (iso ? when.format(new Date(iso)) : t.never);

function agentText(agent) {
  if (!agent) return t.no_agent;
  return [agent.connected ? t.connected : t.not_connected, agent.version].filter(Boolean).join(" · ");
}

const hex = (id) => (id == null ? "" : id.toString(16).padStart(4, "0"));

function setupText(settings) {
  if (!settings) return "";
  if (settings.backend === "network") return fill(pt.setup_network, { host: settings.host, port: settings.port });
  if (settings.backend === "file") return fill(pt.setup_file, { path: settings.path });
  if (settings.vendor != null && settings.product != null) {
    return fill(pt.setup_usb_ids, { vendor: hex(settings.vendor), product: hex(settings.product) });
  }
  return pt.setup_usb;
}

function printerText(printer) {
  if (!printer) return t.no_printer;
  const job = printer.last_job;
  const last = job ? fill(t.job_line, { code: job.ticket.code, state: job.state }) : t.no_job;
  const status = t[`printer_${printer.status}`] ?? printer.status;
  return [setupText(printer.settings), status, printer.detail, last, job?.error?.message].filter(Boolean).join(" · ");
}

function row(device) {
  const tr = $("device-row").content.firstElementChild.cloneNode(true);
  tr.querySelector(".name").textContent = device.name;
  tr.querySelector(".kind").textContent = t[device.kind] ?? device.kind;
  tr.querySelector(".seen").textContent = time(device.last_seen);
  tr.querySelector(".agent").textContent = agentText(device.agent);
  tr.querySelector(".printer").textContent = printerText(device.printer);
  const labels = { pairing: t.new_code, printer: pt.printer, revoke: t.revoke };
  if (device.kind !== "kiosk") tr.querySelector('button[data-action="printer"]')?.remove();
  for (const button of tr.querySelectorAll("button[data-action]")) {
    button.dataset.device = device.name;
    button.textContent = labels[button.dataset.action];
    button.setAttribute("aria-label", `${button.textContent}: ${device.name}`);
  }
  return tr;
}

let devices = [];

async function load() {
  const result = await api("GET", base);
  if (!result.ok) return showError(result.error);
  devices = result.data;
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

// --- a kiosk's printer: a dialog with the fields of the chosen connection only -------------------------------
const printerForm = $("printer-form");
let printerOf = null; // the kiosk whose printer the dialog sets
let printerOpener = null;

function showBackendFields() {
  const backend = printerForm.elements.backend.value;
  for (const group of printerForm.querySelectorAll("[data-backends]")) {
    const on = group.dataset.backends.split(" ").includes(backend);
    group.hidden = !on;
    for (const input of group.querySelectorAll("input, select")) input.disabled = !on; // not checked, not sent
  }
}

function openPrinter(name, opener) {
  const settings = devices.find((d) => d.name === name)?.printer?.settings ?? {};
  const values = { backend: "none", port: 9100, paper: 80, timeout: 5, status: true, ...settings };
  printerOf = name;
  printerOpener = opener;
  printerForm.reset();
  clearErrors(printerForm);
  $("printer-heading").textContent = fill(pt.printer_of, { name });
  for (const el of printerForm.querySelectorAll("[data-field]")) {
    const value = values[el.dataset.field];
    if (el.type === "checkbox") el.checked = value !== false;
    else if (el.name === "vendor" || el.name === "product") el.value = value == null ? "" : `0x${hex(value)}`;
    else el.value = value ?? "";
  }
  showBackendFields();
  $("printer-dialog").showModal();
  printerForm.elements.backend.focus();
}

function printerBody() {
  const body = {};
  for (const el of printerForm.querySelectorAll("[data-field]:not(:disabled)")) {
    if (el.type === "checkbox") body[el.name] = el.checked;
    else if (el.value.trim() === "") continue; // the default
    else if (el.type === "number" || el.name === "paper") body[el.name] = Number(el.value);
    else body[el.name] = el.value.trim();
  }
  return body;
}

// A field the API names as wrong gets its message in the user's language (else the API's English text).
const FIELD_TEXT = { host: pt.bad_host, path: pt.bad_path, vendor: pt.bad_usb_id, product: pt.bad_usb_id,
  profile: pt.bad_profile };

function printerError(error) {
  const text = error.code === "invalid_field" ? FIELD_TEXT[error.message.split(":")[0]] : undefined;
  if (!text) return showFieldError(printerForm, error, pt);
  showFieldError(printerForm, { ...error, code: "field_text" }, { ...pt, field_text: text });
}

async function savePrinter(event) {
  event.preventDefault();
  if (!checkFields(printerForm)) return;
  const name = printerOf;
  const result = await api("PUT", `${base}/${encodeURIComponent(name)}/printer`, printerBody());
  if (!result.ok) return printerError(result.error);
  $("printer-dialog").close();
  await load();
  $("status").textContent = fill(pt.saved, { name });
  $("device-rows").querySelector(`button[data-action="printer"][data-device="${CSS.escape(name)}"]`)?.focus();
}

if (config.canChange) {
  $("add-form").addEventListener("submit", add);
  $("device-rows").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "revoke") confirmRevoke(button.dataset.device, button);
    else if (button.dataset.action === "printer") openPrinter(button.dataset.device, button);
    else newCode(button.dataset.device);
  });
  printerForm.elements.backend.addEventListener("change", showBackendFields);
  printerForm.addEventListener("submit", savePrinter);
  $("printer-cancel").addEventListener("click", () => $("printer-dialog").close());
  $("printer-dialog").addEventListener("close", () => printerOpener?.isConnected && printerOpener.focus());
}
load();
