// Keyboard use of the counter page: one-key shortcuts on the buttons, and the transfer dialog.
const TYPING = "input, textarea, select, [contenteditable]:not([contenteditable=false])";

/** Press the enabled button whose data-shortcut matches the key; never while typing or in a dialog. */
export function bindShortcuts(root, dialog) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.repeat || event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.isComposing || dialog.open || event.target.closest?.(TYPING)) return;
    const key = (event.shiftKey ? "shift+" : "") + event.key.toLowerCase();
    const button = root.querySelector(`button[data-shortcut="${CSS.escape(key)}"]`);
    if (!button) return;
    event.preventDefault();
    if (!button.disabled) button.click();
  });
}

function firstEnabled(select) {
  return [...select.options].find((o) => !o.disabled)?.value ?? "";
}

/** The transfer dialog: returns a function that opens it for the current ticket. Escape closes it natively. */
export function bindTransferDialog({ dialog, opener, prepare, submit }) {
  const form = dialog.querySelector("form");
  const select = form.elements.target;
  dialog.addEventListener("close", () => opener.focus()); // back where the dialog came from
  dialog.querySelector("#transfer-cancel").addEventListener("click", () => dialog.close());
  select.addEventListener("keydown", (event) => { // Enter on a closed list submits, like in a text field
    if (event.key === "Enter") { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const [kind, slug] = select.value.split(":");
    dialog.close();
    submit({ [kind]: slug, position: form.elements.position.value });
  });
  return () => {
    const ticket = prepare();
    if (!ticket) return;
    dialog.querySelector("#transfer-code").textContent = ticket.code;
    for (const option of select.options) option.disabled = option.dataset.service === ticket.service;
    if (select.selectedOptions[0]?.disabled || !select.value) select.value = firstEnabled(select);
    form.elements.position.value = "back";
    dialog.showModal();
    select.focus();
  };
}
