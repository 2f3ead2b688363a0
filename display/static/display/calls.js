// The rules of the call list and of which calls to announce: pure functions, no DOM and no timers.
export const MAX_CALLS = 6;      // what fits a 1080p screen in letters readable from across the room
export const MISSED_MS = 60_000; // calls missed during a connection gap are announced if younger than this

// Newest first, one entry per code (a recall replaces the first call), at most MAX_CALLS.
export function mergeCalls(calls, incoming) {
  const seen = new Set();
  const out = [];
  for (const call of [...incoming, ...calls].sort((a, b) => b.seq - a.seq)) {
    if (seen.has(call.code)) continue;
    seen.add(call.code);
    out.push(call);
    if (out.length === MAX_CALLS) break;
  }
  return out;
}

// Calls newer than the last announced one and younger than MISSED_MS at `now` (ms), oldest first.
export function missedCalls(calls, lastAnnounced, now) {
  return calls
    .filter((c) => c.seq > lastAnnounced && c.at && now - Date.parse(c.at) < MISSED_MS)
    .sort((a, b) => a.seq - b.seq);
}

// "A042" -> "A 42", as server.queue.numbering.spoken_code.
export function spokenCode(code) {
  const match = /^(\D*)(\d+)$/.exec(code);
  return match ? `${match[1]} ${Number(match[2])}`.trim() : code;
}

// The office's language, then the ticket's when it differs and the server can speak it.
export function callLanguages(officeLang, ticketLang, spoken) {
  const langs = spoken.includes(officeLang) ? [officeLang] : [];
  if (ticketLang && ticketLang !== officeLang && spoken.includes(ticketLang)) langs.push(ticketLang);
  return langs;
}
