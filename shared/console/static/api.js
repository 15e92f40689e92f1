// api.js calls the agent API (/v1/openapi.json) with the agent's token.

const TOKEN = 'pajarito.token';

// The token lives in the tab's session storage only: it goes when the tab does.
export const token = {
  get: () => sessionStorage.getItem(TOKEN) || '',
  set: (v) => sessionStorage.setItem(TOKEN, v),
  clear: () => sessionStorage.removeItem(TOKEN),
};

// APIError is a refused call: status, the API's error code and message, and the
// error body (a 409 names who holds a case).
export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || 'HTTP ' + status);
    this.status = status;
    this.code = e.code || '';
    this.body = e;
  }
}

let onUnauthorized = async () => false;

// whenUnauthorized sets what a 401 does: f returns true when it got a new token
// (the call is then made once more), false when the agent must sign in.
export function whenUnauthorized(f) { onUnauthorized = f; }

// call sends method path with body (JSON) and returns the decoded answer.
export async function call(method, path, body, again = true) {
  const headers = { Authorization: 'Bearer ' + token.get() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (resp.status === 401) {
    if (again && await onUnauthorized()) return call(method, path, body, false);
    throw new APIError(401, data);
  }
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body ?? {});
export const put = (path, body) => call('PUT', path, body);
