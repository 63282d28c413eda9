// The one way the console talks to the API: JSON over fetch() with the signed-in user's access
// token. A 401 trades the refresh token for new tokens once (one refresh at a time, shared by
// every request that hit the 401, and across tabs through the Web Locks API where there is
// one: refresh tokens rotate, and a reused one ends the session) and retries; when that fails
// the session is over and the app returns to sign-in. Every failure is an ApiError with the
// server's message.

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

/** Where the tokens live between page loads. */
export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens): void;
  clear(): void;
}

export type ApiErrorKind = 'http' | 'network' | 'session';

export class ApiError extends Error {
  readonly status: number;
  readonly kind: ApiErrorKind;
  /** A submitted resource's bad field (400). */
  readonly field?: string;
  /** A query's bad character offset (400). */
  readonly position?: number;
  /** Seconds to wait (429, 503). */
  readonly retryAfter?: number;

  constructor(
    message: string,
    init: { status?: number; kind?: ApiErrorKind; field?: string; position?: number; retryAfter?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = init.status ?? 0;
    this.kind = init.kind ?? 'http';
    this.field = init.field;
    this.position = init.position;
    this.retryAfter = init.retryAfter;
  }
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'AbortError';
}

export const TOKENS_KEY = 'nexuslog.tokens';

export function localTokenStore(storage: Storage = window.localStorage): TokenStore {
  return {
    get() {
      try {
        const raw = storage.getItem(TOKENS_KEY);
        if (!raw) return null;
        const t = JSON.parse(raw) as Tokens;
        return t.access_token && t.refresh_token ? t : null;
      } catch {
        return null;
      }
    },
    set(tokens) {
      storage.setItem(TOKENS_KEY, JSON.stringify({ access_token: tokens.access_token, refresh_token: tokens.refresh_token }));
    },
    clear() {
      storage.removeItem(TOKENS_KEY);
    },
  };
}

export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (t) => {
      tokens = { access_token: t.access_token, refresh_token: t.refresh_token };
    },
    clear: () => {
      tokens = null;
    },
  };
}

export type RefreshOutcome = 'ok' | 'refused' | 'unreachable';

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  signal?: AbortSignal;
  /** Sign-in and refresh themselves: no token, no refresh on 401. */
  anonymous?: boolean;
  headers?: Record<string, string>;
}

export interface ClientOptions {
  baseUrl?: string;
  store: TokenStore;
  fetch?: typeof fetch;
  /** Called once the session cannot be renewed (the app goes to sign-in). */
  onSessionExpired?: () => void;
  /** Serialises refreshes across tabs; defaults to navigator.locks where present. */
  lock?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
}

function defaultLock(): ClientOptions['lock'] {
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined;
  if (!locks) return undefined;
  return <T,>(name: string, fn: () => Promise<T>) => locks.request(name, fn) as Promise<T>;
}

export function buildUrl(base: string, path: string, query?: Record<string, QueryValue>): string {
  let url = base + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue;
      params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  return url;
}

/** The readable message of an error answer (`{"error": "..."}`), with its details. */
async function errorFrom(res: Response): Promise<ApiError> {
  let message = '';
  let field: string | undefined;
  let position: number | undefined;
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { error?: unknown; field?: unknown; position?: unknown };
      if (typeof body.error === 'string') message = body.error;
      if (typeof body.field === 'string') field = body.field;
      if (typeof body.position === 'number') position = body.position;
    } catch {
      message = text.trim().slice(0, 300);
    }
  } catch {
    // no body
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(message || res.statusText || `HTTP ${res.status}`, {
    status: res.status,
    field,
    position,
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
  });
}

export class ApiClient {
  private readonly base: string;
  private readonly store: TokenStore;
  private readonly fetchFn: typeof fetch;
  private readonly lock?: ClientOptions['lock'];
  private refreshing: Promise<RefreshOutcome> | null = null;
  onSessionExpired?: () => void;

  constructor(options: ClientOptions) {
    this.base = options.baseUrl ?? '';
    this.store = options.store;
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.onSessionExpired = options.onSessionExpired;
    this.lock = options.lock ?? defaultLock();
  }

  get signedIn(): boolean {
    return this.store.get() !== null;
  }

  setTokens(tokens: Tokens): void {
    this.store.set(tokens);
  }

  clearTokens(): void {
    this.store.clear();
  }

  private async send(method: string, path: string, opts: RequestOptions, access?: string): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    let body: BodyInit | undefined;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    if (access) headers.Authorization = `Bearer ${access}`;
    try {
      return await this.fetchFn(buildUrl(this.base, path, opts.query), { method, headers, body, signal: opts.signal });
    } catch (e) {
      if (isAbort(e)) throw e;
      throw new ApiError(e instanceof Error ? e.message : String(e), { kind: 'network' });
    }
  }

  /**
   * New tokens for the session, once at a time: every caller that saw a 401 with the same
   * access token waits for the same refresh. `refused` ends the session; `unreachable` (the
   * server down or failing) does not.
   */
  refresh(staleAccess?: string): Promise<RefreshOutcome> {
    if (!this.refreshing) {
      const run = async (): Promise<RefreshOutcome> => {
        const current = this.store.get();
        if (!current) return 'refused';
        // Another tab (or request) already renewed the tokens: use them.
        if (staleAccess !== undefined && current.access_token !== staleAccess) return 'ok';
        let res: Response;
        try {
          res = await this.send('POST', '/v1/auth/refresh', { body: { refresh_token: current.refresh_token } });
        } catch {
          return 'unreachable';
        }
        if (!res.ok) {
          if (res.status === 400 || res.status === 401 || res.status === 403) {
            this.store.clear();
            return 'refused';
          }
          return 'unreachable';
        }
        try {
          this.store.set((await res.json()) as Tokens);
        } catch {
          return 'unreachable';
        }
        return 'ok';
      };
      const locked = this.lock ? this.lock('nexuslog-refresh', run) : run();
      this.refreshing = locked.finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private expire(): ApiError {
    this.store.clear();
    this.onSessionExpired?.();
    return new ApiError('session expired', { status: 401, kind: 'session' });
  }

  /** A response after authentication (and one refresh on 401); non-2xx answers are thrown. */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    if (opts.anonymous) {
      const res = await this.send(method, path, opts);
      if (!res.ok) throw await errorFrom(res);
      return res;
    }
    const tokens = this.store.get();
    if (!tokens) throw this.expire();
    let res = await this.send(method, path, opts, tokens.access_token);
    if (res.status === 401) {
      const outcome = await this.refresh(tokens.access_token);
      if (outcome === 'unreachable') throw new ApiError('the session could not be renewed: the server did not answer', { kind: 'network' });
      const next = this.store.get();
      if (outcome === 'refused' || !next) throw this.expire();
      res = await this.send(method, path, opts, next.access_token);
      if (res.status === 401) throw this.expire();
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('the server answered something that is not JSON', { status: res.status });
    }
  }

  get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  post<T>(path: string, body?: unknown, opts: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...opts, body });
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}
