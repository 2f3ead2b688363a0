// The office settings page: name, time zone, languages, opening hours and calling rules, saved through
// PATCH /offices/{office}.
import { api } from "/static/js/api.js";
import { checkFields, clearErrors, fill, markField, showError } from "./forms.js";

const config = JSON.parse(document.getElementById("admin-config").textContent);
const t = config.strings;
const $ = (id) => document.getElementById(id);
const form = $("office-form");
const path = `/offices/${encodeURIComponent(config.office)}`;
const POLICY = ["overdue_first", "service_levels", "stop_at_cutoff"]; // the switches of the calling policy

function addPeriod(row, [from, to] = ["", ""]) {
  const box = row.querySelector(".periods");
  const period = $("period").content.firstElementChild.cloneNode(true);
  const [fromLabel, toLabel] = period.querySelectorAll(".period-label");
  fromLabel.textContent = t.from;
  toLabel.textContent = t.to;
  period.querySelector(".from").value = from;
  period.querySelector(".to").value = to;
  box.append(period);
  numberPeriods(row);
  return period;
}

/** Labels and buttons say which day and period they belong to (screen readers hear "Remove period 2 on Monday"). */
function numberPeriods(row) {
  const day = config.weekdays[row.dataset.day];
  row.querySelectorAll(".period").forEach((period, i) => {
    const n = i + 1;
    period.querySelector(".from").setAttribute("aria-label", `${day} ${n}: ${t.from}`);
    period.querySelector(".to").setAttribute("aria-label", `${day} ${n}: ${t.to}`);
    const remove = period.querySelector(".remove-period");
    remove.textContent = t.remove_period;
    remove.setAttribute("aria-label", fill(t.remove_period_of, { n, day }));
  });
  row.querySelector(".add-period").hidden = row.querySelectorAll(".period").length >= 4;
  row.querySelector(".periods").dataset.empty = row.querySelector(".period") ? "" : t.closed_day;
}

function show(office) {
  form.elements.name.value = office.name;
  form.elements.timezone.value = office.timezone;
  form.elements.language.value = office.language;
  for (const box of form.querySelectorAll('input[name="languages"]')) box.checked = office.languages.includes(box.value);
  for (const key of POLICY) form.elements[key].checked = office.policy[key];
  for (const row of form.querySelectorAll("tr[data-day]")) {
    row.querySelector(".periods").replaceChildren();
    for (const period of office.opening_hours[row.dataset.day] ?? []) addPeriod(row, period);
    numberPeriods(row);
  }
  form.setAttribute("aria-busy", "false");
}

function values() {
  const hours = {};
  for (const row of form.querySelectorAll("tr[data-day]")) {
    const periods = [...row.querySelectorAll(".period")].map((p) => [p.querySelector(".from").value, p.querySelector(".to").value]);
    if (periods.length) hours[row.dataset.day] = periods;
  }
  return {
    name: form.elements.name.value.trim(),
    timezone: form.elements.timezone.value.trim(),
    language: form.elements.language.value,
    languages: [...form.querySelectorAll('input[name="languages"]:checked')].map((box) => box.value),
    opening_hours: hours,
    policy: Object.fromEntries(POLICY.map((key) => [key, form.elements[key].checked])),
  };
}

async function save(event) {
  event.preventDefault();
  $("status").textContent = "";
  if (!checkFields(form)) return;
  const body = values();
  for (const [day, periods] of Object.entries(body.opening_hours)) {
    const bad = periods.findIndex(([from, to]) => from >= to);
    if (bad >= 0) {
      const row = form.querySelector(`tr[data-day="${day}"]`);
      return markField(row.querySelectorAll(".period .to")[bad], t.invalid_hours);
    }
  }
  const result = await api("PATCH", path, body);
  if (!result.ok) return showError(form, result.error, t);
  show(result.data);
  const topbar = document.querySelector(".topbar .office-name");
  if (topbar) topbar.textContent = result.data.name;
  $("status").textContent = t.saved;
}

form.addEventListener("submit", save);
form.addEventListener("click", (event) => {
  const row = event.target.closest("tr[data-day]");
  if (!row) return;
  if (event.target.closest(".add-period")) {
    clearErrors(form);
    addPeriod(row).querySelector(".from").focus();
  } else if (event.target.closest(".remove-period")) {
    event.target.closest(".period").remove();
    numberPeriods(row);
    row.querySelector(".add-period").focus();
  }
});

const loaded = await api("GET", path);
if (loaded.ok) show(loaded.data);
else $("status").textContent = fill(t.error, { message: loaded.error.message });
