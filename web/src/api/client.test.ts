import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, memoryTokenStore, type Tokens } from './client';

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function setup(initial: Tokens | null, handler: Handler) {
  const calls: { url: string; auth?: string; body?: string }[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    calls.push({ url, auth: headers.Authorization, body: init?.body as string | undefined });
    return handler(url, init ?? {});
  });
  const store = memoryTokenStore(initial);
  const expired = vi.fn();
  const client = new ApiClient({ store, fetch: fetchFn as unknown as typeof fetch, onSessionExpired: expired, lock: (_n, fn) => fn() });
  return { client, store, calls, expired };
}

const tokens = { access_token: 'old-access', refresh_token: 's1.secret1' };

describe('ApiClient', () => {
  it('sends the access token and returns JSON', async () => {
    const { client, calls } = setup(tokens, () => json(200, { ok: true }));
    await expect(client.get('/v1/projects', { q: 'a b', empty: '', none: undefined })).resolves.toEqual({ ok: true });
    expect(calls[0]).toMatchObject({ url: '/v1/projects?q=a+b', auth: 'Bearer old-access' });
  });

  it('refreshes once on 401 and retries with the new token', async () => {
    const { client, calls, store, expired } = setup(tokens, (url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      if (url === '/v1/auth/refresh') return json(200, { access_token: 'new-access', refresh_token: 's1.secret2' });
      return auth === 'Bearer new-access' ? json(200, { me: 1 }) : json(401, { error: 'expired' });
    });
    await expect(client.get('/v1/auth/me')).resolves.toEqual({ me: 1 });
    expect(calls.map((c) => c.url)).toEqual(['/v1/auth/me', '/v1/auth/refresh', '/v1/auth/me']);
    expect(JSON.parse(calls[1].body!)).toEqual({ refresh_token: 's1.secret1' });
    expect(calls[1].auth).toBeUndefined();
    expect(store.get()).toEqual({ access_token: 'new-access', refresh_token: 's1.secret2' });
    expect(expired).not.toHaveBeenCalled();
  });

  it('shares one refresh between requests that fail together (rotated tokens are single-use)', async () => {
    let refreshes = 0;
    const { client } = setup(tokens, async (url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      if (url === '/v1/auth/refresh') {
        refreshes++;
        await new Promise((r) => setTimeout(r, 5));
        return json(200, { access_token: 'new-access', refresh_token: 's1.secret2' });
      }
      return auth === 'Bearer new-access' ? json(200, { url }) : json(401, { error: 'expired' });
    });
    const answers = await Promise.all([client.get('/a'), client.get('/b'), client.get('/c')]);
    expect(answers).toEqual([{ url: '/a' }, { url: '/b' }, { url: '/c' }]);
    expect(refreshes).toBe(1);
  });

  it('ends the session when the refresh is refused', async () => {
    const { client, store, expired, calls } = setup(tokens, (url) =>
      url === '/v1/auth/refresh' ? json(401, { error: 'invalid or expired refresh token; sign in again' }) : json(401, { error: 'expired' }),
    );
    const err = await client.get('/v1/auth/me').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).kind).toBe('session');
    expect(store.get()).toBeNull();
    expect(expired).toHaveBeenCalledTimes(1);
    expect(calls).toHaveLength(2); // no retry without new tokens
  });

  it('does not refresh twice for one request', async () => {
    const { client, expired, calls } = setup(tokens, (url) =>
      url === '/v1/auth/refresh' ? json(200, { access_token: 'new', refresh_token: 's1.x' }) : json(401, { error: 'no' }),
    );
    await expect(client.get('/x')).rejects.toMatchObject({ kind: 'session' });
    expect(calls.map((c) => c.url)).toEqual(['/x', '/v1/auth/refresh', '/x']);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('keeps the session when the server cannot be reached during a refresh', async () => {
    const { client, store, expired } = setup(tokens, (url) => {
      if (url === '/v1/auth/refresh') throw new TypeError('Failed to fetch');
      return json(401, { error: 'expired' });
    });
    await expect(client.get('/x')).rejects.toMatchObject({ kind: 'network' });
    expect(store.get()).toEqual(tokens);
    expect(expired).not.toHaveBeenCalled();
  });

  it('uses tokens another tab already renewed instead of refreshing again', async () => {
    const setup2 = setup(tokens, (url, init) => {
      const auth = (init.headers as Record<string, string>).Authorization;
      if (url === '/v1/auth/refresh') throw new Error('must not refresh');
      if (auth === 'Bearer old-access') {
        setup2.store.set({ access_token: 'other-tab', refresh_token: 's1.other' });
        return json(401, { error: 'expired' });
      }
      return json(200, { auth });
    });
    await expect(setup2.client.get('/x')).resolves.toEqual({ auth: 'Bearer other-tab' });
  });

  it('goes to sign-in at once without tokens', async () => {
    const { client, expired, calls } = setup(null, () => json(200, {}));
    await expect(client.get('/x')).rejects.toMatchObject({ status: 401, kind: 'session' });
    expect(calls).toHaveLength(0);
    expect(expired).toHaveBeenCalled();
  });

  it("turns error answers into ApiErrors with the server's details", async () => {
    const { client } = setup(tokens, (url) => {
      if (url.startsWith('/q')) return json(400, { error: 'invalid query: expected a term', position: 14 });
      if (url.startsWith('/field')) return json(400, { error: 'window: bad', field: 'window' });
      if (url.startsWith('/forbidden')) return json(403, { error: 'you may not do this' });
      if (url.startsWith('/busy')) return json(429, { error: 'too many' }, { 'Retry-After': '30' });
      return new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' });
    });
    await expect(client.get('/q')).rejects.toMatchObject({ status: 400, position: 14, message: 'invalid query: expected a term' });
    await expect(client.get('/field')).rejects.toMatchObject({ status: 400, field: 'window' });
    await expect(client.get('/forbidden')).rejects.toMatchObject({ status: 403, message: 'you may not do this' });
    await expect(client.get('/busy')).rejects.toMatchObject({ status: 429, retryAfter: 30 });
    await expect(client.get('/other')).rejects.toMatchObject({ status: 502, message: '<html>bad gateway</html>' });
  });

  it('reports a network failure as such', async () => {
    const { client } = setup(tokens, () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(client.get('/x')).rejects.toMatchObject({ kind: 'network' });
  });

  it('sends sign-in without a token and never refreshes it', async () => {
    const { client, calls } = setup(null, () => json(401, { error: 'invalid e-mail or password' }));
    await expect(client.request('POST', '/v1/auth/login', { anonymous: true, body: { email: 'a', password: 'b' } })).rejects.toMatchObject({
      status: 401,
      kind: 'http',
      message: 'invalid e-mail or password',
    });
    expect(calls).toHaveLength(1);
  });
});
