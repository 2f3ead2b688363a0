// JSON calls from the pages: same-origin cookies plus the CSRF header; errors come back as {error}.
const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { "X-CSRFToken": csrf() } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}`, options);
  } catch (err) {
    return { ok: false, status: 0, error: { code: "network", message: String(err) } };
  }
  if (response.status === 204) return { ok: true, status: 204, data: null };
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    return { ok: false, status: response.status, error: data?.error ?? { code: "http_error", message: response.statusText } };
  }
  return { ok: true, status: response.status, data };
}
