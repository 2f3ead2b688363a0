// The services page: the office's services in kiosk order; add, change, reorder, activate and deactivate them.
import { api } from "/static/js/api.js";
import { checkFields, clearErrors, fill, showError } from "./forms.js";

const config = JSON.parse(document.getElementById("admin-config").textContent);
const t = config.strings;
const $ = (id) => document.getElementById(id);
const base = `/offices/${encodeURIComponent(config.office)}`;
const form = $("service-form");
const dialog = $("service-dialog");
const CODE_FIELDS = { code_clash: "prefix", already_exists: "slug", invalid_range: "range", invalid_slug: "slug" };
let services = [];
let editing = null; // the slug being changed, or null when adding
let opener = null;

const nameOf = (svc) => svc.names[config.lang] || svc.names[config.defaultLanguage] || Object.values(svc.names)[0] || svc.slug;
const numberOrNull = (value) => (value === "" ? null : Number(value));

function row(svc, i) {
  const tr = $("service-row").content.firstElementChild.cloneNode(true);
  const name = nameOf(svc);
  tr.dataset.service = svc.slug;
  tr.querySelector(".name").textContent = name;
  tr.querySelector(".slug").textContent = svc.slug;
  const icon = tr.querySelector(".pictogram");
  if (svc.pictogram) {
    icon.src = `/vendor/pictograms/${encodeURIComponent(svc.pictogram)}.svg`;
    icon.hidden = false;
  }
  tr.querySelector(".codes").textContent = `${svc.prefix}${svc.range[0]}–${svc.prefix}${svc.range[1]}`;
  tr.querySelector(".cap").textContent = svc.daily_cap ?? t.none;
  tr.querySelector(".wait").textContent = svc.target_wait ? fill(t.minutes, { n: svc.target_wait }) : t.none;
  tr.querySelector(".state").textContent = svc.active
    ? `${t.active} · ${svc.closed_reason ? t.not_issuing : t.issuing}` : t.inactive;
  tr.classList.toggle("inactive", !svc.active);
  const buttons = {
    up: [t.up, fill(t.move_up, { name }), i === 0],
    down: [t.down, fill(t.move_down, { name }), i === services.length - 1],
    edit: [t.edit, fill(t.edit_service, { name }), false],
    toggle: [svc.active ? t.deactivate : t.activate, `${svc.active ? t.deactivate : t.activate}: ${name}`, false],
  };
  for (const button of tr.querySelectorAll("button[data-action]")) {
    const [text, label, disabled] = buttons[button.dataset.action];
    if (button.dataset.action !== "up" && button.dataset.action !== "down") button.textContent = text;
    button.setAttribute("aria-label", label);
    button.title = text;
    button.disabled = disabled;
    button.dataset.service = svc.slug;
  }
  if (svc.active) tr.querySelector('[data-action="toggle"]').classList.add("danger");
  return tr;
}

async function load() {
  const result = await api("GET", `${base}/services?lang=${encodeURIComponent(config.lang)}`);
  if (!result.ok) {
    $("status").textContent = fill(t.error, { message: result.error.message });
    return;
  }
  services = result.data;
  $("service-rows").replaceChildren(...services.map(row));
  $("services-empty").hidden = services.length > 0;
  $("services").setAttribute("aria-busy", "false");
}

function focusButton(slug, action) {
  const button = $("service-rows").querySelector(`button[data-action="${action}"][data-service="${CSS.escape(slug)}"]`);
  (button && !button.disabled ? button : $("service-rows").querySelector(`button[data-action="edit"][data-service="${CSS.escape(slug)}"]`))?.focus();
}

async function move(slug, step) {
  const order = services.map((s) => s.slug);
  const from = order.indexOf(slug);
  const to = from + step;
  if (from < 0 || to < 0 || to >= order.length) return;
  [order[from], order[to]] = [order[to], order[from]];
  const result = await api("POST", `${base}/service-order`, { order });
  if (!result.ok) {
    $("status").textContent = fill(t.error, { message: result.error.message });
    return;
  }
  await load();
  $("status").textContent = t.order_saved;
  focusButton(slug, step < 0 ? "up" : "down");
}

async function toggle(slug) {
  const svc = services.find((s) => s.slug === slug);
  const result = await api("PATCH", `${base}/services/${encodeURIComponent(slug)}`, { active: !svc.active });
  if (!result.ok) {
    $("status").textContent = result.error.code in t ? t[result.error.code] : fill(t.error, { message: result.error.message });
    return;
  }
  await load();
  $("status").textContent = fill(svc.active ? t.deactivated : t.activated, { name: nameOf(svc) });
  focusButton(slug, "toggle");
}

function open(svc, button) {
  editing = svc?.slug ?? null;
  opener = button;
  form.reset();
  clearErrors(form);
  $("service-heading").textContent = svc ? fill(t.edit_service, { name: nameOf(svc) }) : t.new_service;
  $("slug-field").hidden = Boolean(svc);
  for (const lang of config.languages) form.elements[`name-${lang.code}`].value = svc?.names[lang.code] ?? "";
  form.elements.prefix.value = svc?.prefix ?? "";
  form.elements.first.value = svc?.range[0] ?? 1;
  form.elements.last.value = svc?.range[1] ?? 999;
  form.elements.daily_cap.value = svc?.daily_cap ?? "";
  form.elements.target_wait.value = svc?.target_wait ?? "";
  form.elements.service_minutes.value = svc?.service_minutes ?? 5;
  form.querySelector(`input[name="pictogram"][value="${CSS.escape(svc?.pictogram ?? "")}"]`).checked = true;
  dialog.showModal();
  form.elements[`name-${config.defaultLanguage}`]?.focus();
}

function body() {
  const names = {};
  for (const lang of config.languages) {
    const value = form.elements[`name-${lang.code}`].value.trim();
    if (value) names[lang.code] = value;
  }
  const out = {
    name: names,
    prefix: form.elements.prefix.value.trim().toUpperCase(),
    range: [Number(form.elements.first.value), Number(form.elements.last.value)],
    daily_cap: numberOrNull(form.elements.daily_cap.value),
    target_wait: numberOrNull(form.elements.target_wait.value),
    service_minutes: Number(form.elements.service_minutes.value),
    pictogram: form.elements.pictogram.value || null,
  };
  if (!editing && form.elements.slug.value.trim()) out.slug = form.elements.slug.value.trim();
  return out;
}

async function save(event) {
  event.preventDefault();
  form.elements.prefix.value = form.elements.prefix.value.trim().toUpperCase();
  if (!checkFields(form)) return;
  const data = body();
  const result = editing
    ? await api("PATCH", `${base}/services/${encodeURIComponent(editing)}`, data)
    : await api("POST", `${base}/services`, data);
  if (!result.ok) return showError(form, result.error, t, CODE_FIELDS);
  const slug = result.data.slug;
  dialog.close();
  await load();
  $("status").textContent = editing ? t.saved : fill(t.added, { name: nameOf(result.data) });
  focusButton(slug, "edit");
}

$("add-service").addEventListener("click", (event) => open(null, event.currentTarget));
$("service-cancel").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => opener?.isConnected && opener.focus());
form.addEventListener("submit", save);
$("service-rows").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const slug = button.dataset.service;
  const action = button.dataset.action;
  if (action === "up") move(slug, -1);
  else if (action === "down") move(slug, 1);
  else if (action === "toggle") toggle(slug);
  else open(services.find((s) => s.slug === slug), button);
});
load();
