// The users page: the staff users the admin may see; add users, change role, offices and active, set passwords.
import { api } from "/static/js/api.js";
import { checkFields, clearErrors, fill, markField, showError } from "./forms.js";

const config = JSON.parse(document.getElementById("admin-config").textContent);
const t = config.strings;
const $ = (id) => document.getElementById(id);
const when = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short", timeZone: config.timezone });
// Error codes whose message names no field: the field they are about.
const FIELD_OF_CODE = { weak_password: "password" };
let users = [];
let current = null; // the user the open dialog changes
let opener = null;

function officeNames(slugs) {
  return slugs.length ? slugs.map((slug) => config.offices[slug] ?? slug).join(", ") : t.city_wide;
}

function row(user) {
  const tr = $("user-row").content.firstElementChild.cloneNode(true);
  const me = user.id === config.me;
  tr.classList.toggle("inactive", !user.active);
  tr.querySelector(".name").textContent = me ? fill(t.you, { name: user.name }) : user.name;
  tr.querySelector(".role").textContent = t[`role_${user.role}`] ?? user.role;
  tr.querySelector(".offices").textContent = officeNames(user.offices);
  tr.querySelector(".state").textContent = user.active ? t.active : t.inactive;
  tr.querySelector(".login").textContent = user.last_login ? when.format(new Date(user.last_login)) : t.never;
  const edit = tr.querySelector('[data-action="edit"]');
  const password = tr.querySelector('[data-action="password"]');
  edit.textContent = t.edit;
  password.textContent = t.set_password;
  for (const button of [edit, password]) {
    button.dataset.user = user.id;
    button.setAttribute("aria-label", `${button.textContent}: ${user.name}`); // the visible text, then whose
  }
  edit.hidden = !user.editable;
  password.hidden = !user.editable || me;
  if (me) {
    const link = tr.querySelector(".own-password");
    link.textContent = t.own_password;
    link.hidden = false;
  } else if (!user.editable) {
    tr.querySelector(".row-actions").append(t.out_of_reach);
  }
  return tr;
}

async function load() {
  const result = await api("GET", "/users");
  if (!result.ok) {
    $("status").textContent = fill(t.error, { message: result.error.message });
    return;
  }
  users = result.data;
  $("user-rows").replaceChildren(...users.map(row));
  $("users").setAttribute("aria-busy", "false");
}

function apiError(form, error) {
  const field = FIELD_OF_CODE[error.code];
  showError(form, field ? { ...error, message: `${field}: ${error.message}` } : error, t);
}

const chosenOffices = (form) => [...form.querySelectorAll('input[name="offices"]:checked')].map((box) => box.value);

function samePasswords(form) {
  if (form.elements.password.value === form.elements.repeat.value) return true;
  markField(form.elements.repeat, t.mismatch);
  form.querySelector(".form-alert").textContent = t.fix_fields;
  return false;
}

function focusRow(action, id) {
  $("user-rows").querySelector(`button[data-action="${action}"][data-user="${id}"]:not([hidden])`)?.focus();
}

async function add(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!checkFields(form) || !samePasswords(form)) return;
  const body = { name: form.elements.name.value.trim(), role: form.elements.role.value, offices: chosenOffices(form),
    password: form.elements.password.value };
  const result = await api("POST", "/users", body);
  if (!result.ok) return apiError(form, result.error);
  for (const name of ["name", "password", "repeat"]) form.elements[name].value = "";
  await load();
  $("status").textContent = fill(t.added, { name: result.data.name });
}

function openDialog(dialog, user, button) {
  current = user;
  opener = button;
  const form = dialog.querySelector("form");
  form.reset();
  clearErrors(form);
  dialog.showModal();
  return form;
}

function openEdit(user, button) {
  const form = openDialog($("edit-dialog"), user, button);
  $("edit-heading").textContent = fill(t.edit_user, { name: user.name });
  form.elements.role.value = user.role;
  for (const box of form.querySelectorAll('input[name="offices"]')) box.checked = user.offices.includes(box.value);
  form.elements.active.checked = user.active;
  form.elements.role.focus();
}

async function saveEdit(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const body = { role: form.elements.role.value, offices: chosenOffices(form), active: form.elements.active.checked };
  const result = await api("PATCH", `/users/${current.id}`, body);
  if (!result.ok) return apiError(form, result.error);
  const message = current.active && !result.data.active ? t.deactivated : t.saved;
  $("edit-dialog").close();
  await load();
  $("status").textContent = fill(message, { name: result.data.name });
  focusRow("edit", result.data.id);
}

function openPassword(user, button) {
  const form = openDialog($("password-dialog"), user, button);
  $("password-heading").textContent = fill(t.set_password_for, { name: user.name });
  form.elements.password.focus();
}

async function savePassword(event) {
  event.preventDefault();
  const form = event.currentTarget;
  if (!checkFields(form) || !samePasswords(form)) return;
  const result = await api("POST", `/users/${current.id}/password`, { password: form.elements.password.value });
  if (!result.ok) return apiError(form, result.error);
  form.reset();
  $("password-dialog").close();
  await load();
  $("status").textContent = fill(t.password_set, { name: result.data.name });
  focusRow("password", result.data.id);
}

$("add-form").addEventListener("submit", add);
$("edit-form").addEventListener("submit", saveEdit);
$("password-form").addEventListener("submit", savePassword);
for (const dialog of [$("edit-dialog"), $("password-dialog")]) {
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => opener?.isConnected && opener.focus());
}
$("user-rows").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const user = users.find((u) => String(u.id) === button.dataset.user);
  if (button.dataset.action === "edit") openEdit(user, button);
  else openPassword(user, button);
});
load();
