// Shared by the admin's setup pages: messages in the user's language, errors tied to the fields they concern.
export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => values[k] ?? m);

/** The API error in the user's language when its code is known, else the server's own message. */
export function errorText(error, strings) {
  return strings[error?.code] ?? fill(strings.error, { message: error?.message ?? "" });
}

/** The form field an API error names ("range: ...", "name.de: ..."), or the field its code concerns
 * (`codeFields`, e.g. {code_clash: "prefix"}), if the form has one. */
function fieldOf(form, error, codeFields) {
  const named = codeFields[error?.code];
  if (named) return form.querySelector(`[data-field="${CSS.escape(named)}"]`);
  const path = (error?.message ?? "").split(":")[0].trim();
  if (!path || path.includes(" ")) return null;
  const parts = path.split(".");
  for (let n = parts.length; n > 0; n -= 1) {
    const el = form.querySelector(`[data-field="${CSS.escape(parts.slice(0, n).join("."))}"]`);
    if (el) return el;
  }
  return null;
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const hint = el.getAttribute("aria-describedby")?.split(" ").filter((id) => !id.endsWith("-error")).join(" ");
    if (hint) el.setAttribute("aria-describedby", hint);
    else el.removeAttribute("aria-describedby");
  }
  for (const p of form.querySelectorAll(".field-error")) p.remove();
  const alert = form.querySelector(".form-alert");
  if (alert) alert.textContent = "";
}

/** Mark one field as wrong, with its message right below it, and move the focus there. */
export function markField(el, message) {
  const id = `${el.id || el.name}-error`;
  const p = document.createElement("p");
  p.className = "field-error";
  p.id = id;
  p.textContent = message;
  el.closest(".field, fieldset")?.append(p) ?? el.after(p);
  el.setAttribute("aria-invalid", "true");
  el.setAttribute("aria-describedby", [el.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
  el.focus();
}

/** Show an API error: on its field when it names one, and always in the form's alert. */
export function showError(form, error, strings, codeFields = {}) {
  const text = errorText(error, strings);
  const field = fieldOf(form, error, codeFields);
  if (field) markField(field, text);
  const alert = form.querySelector(".form-alert");
  if (alert) alert.textContent = field ? strings.fix_fields : text;
  else if (!field) document.getElementById("status").textContent = text;
}

/** The browser's own checks first (required, patterns, ranges), shown the same way. */
export function checkFields(form) {
  clearErrors(form);
  const bad = [...form.elements].find((el) => el.willValidate && !el.checkValidity());
  if (!bad) return true;
  markField(bad, bad.validationMessage);
  const alert = form.querySelector(".form-alert");
  if (alert) alert.textContent = "";
  return false;
}
