// The counters page: each counter with its services in priority order; add counters and change them.
import { api } from "/static/js/api.js";
import { checkFields, clearErrors, fill, markField, showError } from "./forms.js";

const config = JSON.parse(document.getElementById("admin-config").textContent);
const t = config.strings;
const $ = (id) => document.getElementById(id);
const base = `/offices/${encodeURIComponent(config.office)}`;
const form = $("counter-form");
const dialog = $("counter-dialog");
let counters = [];
let services = new Map(); // slug -> name in the page's language
let editing = null;
let opener = null;

function row(counter) {
  const tr = $("counter-row").content.firstElementChild.cloneNode(true);
  tr.dataset.counter = counter.slug;
  tr.querySelector(".name").textContent = counter.name;
  tr.querySelector(".slug").textContent = counter.slug;
  tr.querySelector(".services").replaceChildren(...counter.services.map((slug) => {
    const li = document.createElement("li");
    li.textContent = services.get(slug) ?? slug;
    return li;
  }));
  tr.querySelector(".state").textContent = t[`state_${counter.state}`] ?? counter.state;
  const edit = tr.querySelector('[data-action="edit"]');
  edit.textContent = t.edit;
  edit.setAttribute("aria-label", fill(t.edit_counter, { name: counter.name }));
  edit.dataset.counter = counter.slug;
  return tr;
}

async function load() {
  const [cs, ss] = await Promise.all([api("GET", `${base}/counters`),
    api("GET", `${base}/services?lang=${encodeURIComponent(config.lang)}`)]);
  const failed = [cs, ss].find((r) => !r.ok);
  if (failed) {
    $("status").textContent = fill(t.error, { message: failed.error.message });
    return;
  }
  services = new Map(ss.data.map((s) => [s.slug, s.name]));
  counters = cs.data;
  $("counter-rows").replaceChildren(...counters.map(row));
  $("counters-empty").hidden = counters.length > 0;
  $("counters").setAttribute("aria-busy", "false");
}

/** The dialog's list: the counter's services first, in its order, then the others; each movable. */
function fillChoices(chosen) {
  const order = [...chosen, ...[...services.keys()].filter((slug) => !chosen.includes(slug))];
  $("counter-services").replaceChildren(...order.map((slug) => {
    const li = $("service-choice").content.firstElementChild.cloneNode(true);
    li.dataset.service = slug;
    const box = li.querySelector("input");
    box.value = slug;
    box.checked = chosen.includes(slug);
    li.querySelector(".label").textContent = services.get(slug);
    return li;
  }));
  labelMoves();
}

function labelMoves() {
  const items = [...$("counter-services").children];
  items.forEach((li, i) => {
    const name = services.get(li.dataset.service);
    for (const button of li.querySelectorAll("button[data-move]")) {
      const up = button.dataset.move === "-1";
      button.setAttribute("aria-label", fill(up ? t.move_up : t.move_down, { name }));
      button.title = up ? t.up : t.down;
      button.disabled = up ? i === 0 : i === items.length - 1;
    }
  });
}

function open(counter, button) {
  editing = counter?.slug ?? null;
  opener = button;
  form.reset();
  clearErrors(form);
  $("counter-heading").textContent = counter ? fill(t.edit_counter, { name: counter.name }) : t.new_counter;
  form.elements.name.value = counter?.name ?? "";
  fillChoices(counter?.services ?? []);
  dialog.showModal();
  form.elements.name.focus();
}

async function save(event) {
  event.preventDefault();
  if (!checkFields(form)) return;
  const chosen = [...$("counter-services").querySelectorAll("input:checked")].map((box) => box.value);
  if (!chosen.length) return markField($("counter-services").querySelector("input"), t.no_services);
  const body = { name: form.elements.name.value.trim(), services: chosen };
  const result = editing
    ? await api("PATCH", `${base}/counters/${encodeURIComponent(editing)}`, body)
    : await api("POST", `${base}/counters`, body);
  if (!result.ok) return showError(form, result.error, t, { already_exists: "name", invalid_services: "services" });
  dialog.close();
  await load();
  $("status").textContent = editing ? t.saved : fill(t.added, { name: result.data.name });
  $("counter-rows").querySelector(`button[data-counter="${CSS.escape(result.data.slug)}"]`)?.focus();
}

$("counter-services").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-move]");
  if (!button) return;
  const li = button.closest("li");
  const target = button.dataset.move === "-1" ? li.previousElementSibling : li.nextElementSibling?.nextElementSibling;
  if (button.dataset.move === "-1" && !target) return;
  $("counter-services").insertBefore(li, target ?? null);
  labelMoves();
  (button.disabled ? li.querySelector("button:not(:disabled)") : button)?.focus();
});
$("add-counter").addEventListener("click", (event) => open(null, event.currentTarget));
$("counter-cancel").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => opener?.isConnected && opener.focus());
form.addEventListener("submit", save);
$("counter-rows").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button) open(counters.find((c) => c.slug === button.dataset.counter), button);
});
load();
