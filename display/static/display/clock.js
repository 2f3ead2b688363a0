// The wall clock in the office's time zone: local, ticking every second, never asking the server.
export function startClock(timeEl, dateEl, { locale, timeZone, offsetMs = 0 }) {
  const time = new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const date = new Intl.DateTimeFormat(locale, { timeZone, weekday: "long", day: "numeric", month: "long" });
  const tick = () => {
    const now = new Date(Date.now() + offsetMs);
    const text = time.format(now);
    if (timeEl.textContent !== text) {
      timeEl.textContent = text;
      timeEl.dateTime = now.toISOString();
      dateEl.textContent = date.format(now);
    }
    setTimeout(tick, 1000 - (now.getTime() % 1000) + 10); // just after the next full second
  };
  tick();
}
