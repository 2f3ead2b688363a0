// The print status of the ticket on screen: being printed, printed, or failed with a button to try again.
// Outcomes arrive as /kiosk deltas, sometimes before the response that names their job, so they are kept a while.
import { api } from "/static/js/api.js";

const KEEP_MS = 30_000; // how long an outcome waits for the ticket response that names its job
const OUTCOME_MS = 15_000; // no outcome by then: the citizen is told the printer is not working
const PHASES = { queued: "pending", printing: "pending", printed: "printed", failed: "failed" };

/** True if job view a is at least as recent as b (a retry counts one attempt more). */
function newer(a, b) {
  if (!b) return true;
  if (a.attempts !== b.attempts) return a.attempts > b.attempts;
  return Date.parse(a.updated_at) >= Date.parse(b.updated_at);
}

/**
 * parts: {strings, screen, status, alert, retry, title}; onPhase(phase) hears "none", "pending", "printed", "failed".
 * Returns {track(job view | null), outcome(job view), recheck(), clear(), phase()}.
 */
export function printStatus({ strings, screen, status, alert, retry, title }, onPhase) {
  const seen = new Map(); // job id -> {view, at}: every print outcome of the office, for a short while
  let job = null; // the latest known view of the job of the ticket on screen
  let phase = "none";
  let watchdog = null;
  let retrying = false;

  function show(next) {
    phase = next;
    screen.dataset.print = next;
    status.textContent = next === "pending" || next === "printed" ? strings[next] : "";
    alert.textContent = next === "failed" ? strings.failed : ""; // set anew, so it is announced again
    if (next !== "failed" && document.activeElement === retry) title.focus(); // not lost with the hidden button
    retry.hidden = next !== "failed";
    clearTimeout(watchdog);
    if (next === "pending") watchdog = setTimeout(expire, OUTCOME_MS);
  }

  function apply(view) {
    if (!job || view.id !== job.id || !newer(view, job)) return;
    job = view;
    show(PHASES[view.state] ?? "pending");
    onPhase(phase);
  }

  function remember(view) {
    const now = performance.now();
    for (const [id, entry] of seen) if (now - entry.at > KEEP_MS) seen.delete(id);
    if (newer(view, seen.get(view.id)?.view)) seen.set(view.id, { view, at: now });
  }

  async function recheck() {
    if (!job) return;
    const result = await api("GET", `/print-jobs/${job.id}`);
    if (result.ok) apply(result.data);
  }

  async function expire() {
    const id = job?.id;
    await recheck(); // one look, in case the outcome went by while the connection was away
    if (phase === "pending" && job?.id === id) {
      show("failed");
      onPhase(phase);
    }
  }

  async function tryAgain() {
    if (phase !== "failed" || retrying || !job) return;
    retrying = true;
    const result = await api("POST", `/print-jobs/${job.id}/retry`);
    retrying = false;
    if (result.ok) apply(result.data);
    else if (result.status === 409) await recheck(); // not failed after all: still printing, or printed
    else show("failed"); // the notice stays and is said again
  }

  retry.addEventListener("click", tryAgain);
  return {
    track(view) {
      job = null;
      show("none");
      if (view) {
        const known = seen.get(view.id)?.view;
        job = newer(view, known) ? view : known;
        show(PHASES[job.state] ?? "pending");
      }
      onPhase(phase);
    },
    outcome(view) {
      remember(view);
      apply(view);
    },
    recheck,
    clear() {
      job = null;
      show("none");
    },
    phase: () => phase,
  };
}
