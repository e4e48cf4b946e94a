// Calls to the service's routes; the admin token lives in this tab's sessionStorage only.
const TOKEN_KEY = "stance.adminToken";

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

export function adminToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setAdminToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  document.dispatchEvent(new CustomEvent("stance:token"));
}

function headers(body, admin) {
  const result = {};
  if (body !== undefined) result["Content-Type"] = "application/json";
  const token = adminToken();
  if (admin && token) result.Authorization = `Bearer ${token}`;
  return result;
}

export async function send(method, path, body, { admin = false, keepalive = false } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body, admin),
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
    });
  } catch (error) {
    throw new ApiError(0, `the service did not answer (${error.message})`, null);
  }
  return response;
}

export async function call(method, path, body, options = {}) {
  const response = await send(method, path, body, options);
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, data?.detail ?? `HTTP ${response.status}`, data);
  }
  return data;
}

export async function image(path) {
  const response = await send("GET", path, undefined, { admin: true });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(response.status, data?.detail ?? `HTTP ${response.status}`, data);
  }
  return URL.createObjectURL(await response.blob());
}
