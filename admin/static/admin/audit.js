// The audit page: "Download CSV" fetches the shown filters as CSV (the API answers CSV on Accept: text/csv).
const config = JSON.parse(document.getElementById("admin-config").textContent);
const status = document.getElementById("csv-status");

async function download() {
  const query = new URLSearchParams(window.location.search);
  query.set("office", config.office);
  let response;
  try {
    response = await fetch(`/api/v1/audit?${query}`, { credentials: "same-origin", headers: { Accept: "text/csv" } });
  } catch (err) {
    response = { ok: false, statusText: String(err), json: async () => null };
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    status.textContent = config.strings.csv_failed.replace("{message}", data?.error?.message ?? response.statusText);
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: `audit-${config.office}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  status.textContent = config.strings.csv_ready;
}

document.getElementById("download-csv").addEventListener("click", download);
