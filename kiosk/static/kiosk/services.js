// The kiosk's service buttons: made once per service, then updated in place from every live state
// (so focus and a running tap survive updates).
import { estimateText, fill } from "/static/js/estimate.js";

export function serviceName(svc, view) {
  const names = svc.names || {};
  return names[view.lang] || names[view.defaultLang] || names.de || svc.name;
}

function closedReason(svc, view) {
  if (!view.state.office.issuing) return "office_closed";
  if (svc.closed_reason) return svc.closed_reason;
  if (svc.daily_cap && svc.issued_today >= svc.daily_cap) return "daily_cap_reached";
  if (!svc.issuing) return "service_closed";
  if ("closed_reason" in svc || "issued_today" in svc) return null; // the server reports caps itself
  return view.refused.get(svc.slug) ?? null;
}

function part(className) {
  const span = document.createElement("span");
  span.className = className;
  return span;
}

function newItem(slug, onTap) {
  const li = document.createElement("li");
  li.dataset.service = slug;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "service";
  const icon = part("service-pictogram");
  icon.setAttribute("aria-hidden", "true"); // the name says it all; the pictogram helps those who read little
  button.append(icon, part("service-name"), part("service-waiting"), part("service-estimate"), part("service-reason"));
  button.addEventListener("click", () => onTap(slug));
  li.append(button);
  return li;
}

function update(li, svc, view) {
  const S = view.strings;
  const reason = closedReason(svc, view);
  const button = li.firstElementChild;
  li.dataset.waiting = svc.waiting;
  li.dataset.issuing = reason ? "false" : "true";
  button.disabled = view.locked || Boolean(reason);
  button.querySelector(".service-name").textContent = serviceName(svc, view);
  if ((button.dataset.pictogram ?? "") !== (svc.pictogram ?? "")) {
    const icon = button.querySelector(".service-pictogram");
    if (svc.pictogram) {
      button.dataset.pictogram = svc.pictogram;
      icon.style.setProperty("--pictogram", `url("/vendor/pictograms/${encodeURIComponent(svc.pictogram)}.svg")`);
    } else {
      delete button.dataset.pictogram;
      icon.style.removeProperty("--pictogram");
    }
  }
  button.querySelector(".service-waiting").textContent = fill(S.waiting, { n: svc.waiting });
  const estimate = button.querySelector(".service-estimate");
  estimate.textContent = estimateText(S, svc.estimate);
  estimate.hidden = Boolean(reason);
  const why = button.querySelector(".service-reason");
  const text = reason ? S.reasons[reason] ?? S.reasons.service_closed : "";
  why.textContent = fill(text, { service: serviceName(svc, view) });
  why.hidden = !reason;
}

// view: {state, lang, defaultLang, strings, refused: Map, locked: bool, onTap(slug)}
export function renderServices(list, view) {
  const items = new Map([...list.children].map((li) => [li.dataset.service, li]));
  view.state.services.filter((svc) => svc.active !== false).forEach((svc, i) => {
    const li = items.get(svc.slug) ?? newItem(svc.slug, view.onTap);
    items.delete(svc.slug);
    update(li, svc, view);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] ?? null);
  });
  items.forEach((li) => li.remove());
}
