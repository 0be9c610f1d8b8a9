// The /v1 API from the browser. The token lives in sessionStorage (this tab only) and travels
// only in the Authorization header, never in a URL.
const TOKEN_KEY = 'psahost.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

// Called with the problem when the token stops working (expired, revoked).
let onSignedOut = () => {};
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

// Called with true while the host cannot be reached, false once it answers again.
let onReachable = () => {};
export function whenReachability(handler) {
  onReachable = handler;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One request. Reads are retried while the host is unreachable (a restart under an open page);
// writes are not, so nothing is sent twice.
export async function api(method, path, body, { retries = 30 } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  for (let attempt = 0; ; attempt += 1) {
    try {
      response = await fetch(path, init);
      if (attempt > 0) onReachable(false);
      if (response.status === 503 && method === 'GET' && attempt < retries) {
        onReachable(true);
        await sleep(500);
        continue;
      }
      break;
    } catch (err) {
      if (method !== 'GET' || attempt >= retries) {
        onReachable(false);
        throw new ApiError(0, {
          title: 'The host cannot be reached',
          detail: method === 'GET' ? 'gave up after retrying' :
            'the change may not have been made; check before sending it again',
        });
      }
      onReachable(true);
      await sleep(Math.min(2000, 200 * (attempt + 1)));
    }
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { title: `HTTP ${response.status}`, detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? data : { title: `HTTP ${response.status}` };
    const error = new ApiError(response.status, problem);
    if (response.status === 401 && t) {
      token.clear();
      onSignedOut(problem);
    }
    throw error;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
