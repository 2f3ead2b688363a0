// The office's ticket printers on the counter page: a banner while one is in trouble, and the outcome of a reprint.
import { fill } from "./view.js";

const FINE = new Set(["ok", "unknown"]);
const KEEP_MS = 30_000; // how long an outcome waits for the response that names its job

const troubled = (printers) => (printers ?? []).filter((p) => !FINE.has(p.status) || p.last_error);
const faultKey = (p) => `${p.device}|${p.status}|${p.last_error?.job ?? ""}`;

function line(p, T) {
  const status = T[`printer_${p.status}`] ?? p.status;
  const text = fill(T.printer_line, { device: p.device, status });
  return p.last_error ? `${text} – ${fill(T.not_printed, { code: p.last_error.ticket })}` : text;
}

/** Returns render(printers): the banner is a status; an alert only for a fault that is new since the last render. */
export function printerBanner(banner, T) {
  let known = null; // the faults shown last time (null: nothing rendered yet, so nothing is "new")
  return (printers) => {
    const bad = troubled(printers);
    const keys = new Set(bad.map(faultKey));
    const lines = bad.map((p) => line(p, T));
    if (lines.join("\n") === [...banner.querySelectorAll("li")].map((li) => li.textContent).join("\n")) {
      known = keys;
      banner.setAttribute("role", "status"); // unchanged: said once, no new alarm
      return;
    }
    const isNew = known !== null && [...keys].some((k) => !known.has(k));
    banner.setAttribute("role", isNew ? "alert" : "status");
    const list = document.createElement("ul");
    const item = (text) => Object.assign(document.createElement("li"), { textContent: text, dir: "auto" });
    list.append(...lines.map(item));
    banner.replaceChildren(...(lines.length ? [list] : []));
    known = keys;
  };
}

/** Follows the reprints sent from this page; report(view) is called once with each one's outcome. */
export function reprintTracker(report) {
  const seen = new Map(); // job id -> {view, at}: recent print outcomes of the office
  const sent = new Set(); // job ids of this page's reprints still waiting for their outcome

  function settle(view) {
    if (!sent.has(view.id) || !["printed", "failed"].includes(view.state)) return;
    sent.delete(view.id);
    report(view);
  }

  return {
    sent(view) {
      sent.add(view.id);
      const earlier = seen.get(view.id)?.view; // the outcome may have come before the response
      settle(earlier && earlier.attempts >= view.attempts ? earlier : view);
    },
    outcome(view) {
      const now = performance.now();
      for (const [id, entry] of seen) if (now - entry.at > KEEP_MS) seen.delete(id);
      seen.set(view.id, { view, at: now });
      settle(view);
    },
  };
}
