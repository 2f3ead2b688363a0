// Waiting-time estimates in words, for every page that shows one (kiosk, status page, display).

/** "{low}" and the like in a text, filled from `values` (missing ones: empty). */
export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));

/**
 * An estimate ({low, high} minutes, or {reason}) as text: "about 5–12 min.", "less than 1 min." (0–1 or 0–0:
 * next in line at a counter that is free or about to be), why there is no number (no counter open), or "". `S`
 * holds the words (estimate_words() in server/web/i18n.py, which says the same for server-drawn pages and printed
 * tickets).
 */
export function estimateText(S, estimate) {
  if (!estimate) return "";
  if (estimate.low == null) return estimate.reason === "no_counter_open" ? S.noCounter : "";
  if (estimate.low === 0 && estimate.high <= 1) return S.soon;
  return fill(S.estimate, estimate);
}
