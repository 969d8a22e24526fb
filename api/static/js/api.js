// The page's one way to the API: same origin, /api/v1, the user's bearer token. Errors
// are the API's problem+json, shown by their `detail`.

let token = null;
const listeners = new Set();

export function useToken(value) {
  token = value;
}

export function bearer() {
  return { Authorization: `Bearer ${token}` };
}

/** Called with no arguments when the API refuses the token (401). */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function url(path, params) {
  const u = new URL(`/api/v1${path}`, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== null && v !== undefined) u.searchParams.set(k, v);
  }
  return u;
}

async function send(method, path, params, body) {
  const headers = { ...bearer(), Accept: "application/json" };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, params), init);
  const data = await response.json().catch(() => null);
  if (response.status === 401) listeners.forEach((fn) => fn());
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path, params) => send("GET", path, params);
export const post = (path, body) => send("POST", path, undefined, body);

/** Every item of a paged list (`next_cursor`), up to `max` pages. */
export async function all(path, params = {}, max = 20) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < max; page += 1) {
    const data = await get(path, { ...params, limit: 1000, cursor });
    items.push(...data.items);
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** A point's buckets over [from, to), following pages. */
export async function series(pointId, from, to, resolution) {
  const buckets = [];
  let cursor = null;
  for (let page = 0; page < 20; page += 1) {
    const data = await get(`/points/${pointId}/series`, {
      from: from.toISOString(),
      to: to.toISOString(),
      resolution,
      limit: 5000,
      cursor,
    });
    buckets.push(...(data.buckets || []));
    cursor = data.next_cursor;
    if (!cursor) return { unit: data.unit, zone: data.zone, buckets };
  }
  return { buckets };
}
