/**
 * Per-call variants are keyed by an injective encoding of their parameters, never by the label that
 * names them in logs: two callers whose parameters differ only in where a separator falls must get
 * two tokens, each asked for with their own parameters.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { propertyRuns, propertySeeds } from '../testing-support/property-seeds.js';
import { tokenMetricsSnapshot } from '../metrics/token-metrics.snapshot.js';
import { OAuth2Strategy } from '../strategies/oauth2/oauth2.strategy.js';
import { subjectDigest } from './oauth2-cache-key.js';
import { TokenInfo } from './token-info.js';
import { TokenService } from '../module/token.service.js';
import type { TokenRequestParameters, TokenStrategy } from './token-strategy.interface.js';
import { describeRequestParameters, variantKeyOf } from './token-request-parameters.js';

/** What a request asks for, read independently of the code under test: sets where order does not matter. */
function meaningOf(parameters: TokenRequestParameters): string {
  const scopes = [parameters.scope ?? []]
    .flat()
    .flatMap((value) => value.split(' '))
    .filter(Boolean);
  const resources = parameters.resource === undefined ? null : [parameters.resource].flat();
  return JSON.stringify({
    scope: scopes.length === 0 ? null : [...new Set(scopes)].sort(),
    audience: parameters.audience ?? null,
    resource: resources === null ? null : [...new Set(resources)].sort(),
    tenant: parameters.tenant ?? null,
    subject: parameters.subjectToken ?? null,
  });
}

/** The token minted for these parameters: their meaning, as an RFC 6750 b64token. */
const tokenFor = (parameters: TokenRequestParameters) =>
  Buffer.from(meaningOf(parameters)).toString('base64url');

/** A strategy whose tokens say which parameters they were asked with; counts the requests. */
class EchoStrategy implements TokenStrategy {
  static requests = 0;
  readonly cacheKey: string;
  constructor(private readonly parameters: TokenRequestParameters = {}) {
    this.cacheKey = `echo:${meaningOf(parameters)}`;
  }
  withParameters(parameters: TokenRequestParameters): TokenStrategy {
    return new EchoStrategy(parameters);
  }
  async generate(): Promise<TokenInfo> {
    EchoStrategy.requests++;
    return new TokenInfo({ token: tokenFor(this.parameters), expiresAt: Date.now() + 3_600_000 });
  }
}

const SUBJECT = 'subject-token-of-user-a';
// A caller who saw user A's subject digest in a log line or in getStats() crafts an audience from it.
const CRAFTED_PAIRS: [string, TokenRequestParameters, TokenRequestParameters][] = [
  ['a comma inside a scope', { scope: 'a', audience: 'x' }, { scope: ['a,', 'audience=x'] }],
  ['a comma inside an audience', { audience: 'x', resource: 'r' }, { audience: 'x, resource=r' }],
  ['a space inside a resource', { resource: ['r1', 'r2'] }, { resource: ['r1 r2'] }],
  ['a comma inside a resource', { resource: 'r', tenant: 't' }, { resource: 'r, tenant=t' }],
  ['a scope posing as a tenant', { scope: 'a', tenant: 't' }, { scope: ['a,', 'tenant=t'] }],
  [
    "another user's subject digest in an audience",
    { audience: 'x', subjectToken: SUBJECT },
    { audience: `x, subject=${subjectDigest(SUBJECT)}` },
  ],
];

describe('variant keys (trust boundaries row 10)', () => {
  let service: TokenService;
  beforeAll(() => {
    service = new TokenService();
    service.register('api', new EchoStrategy());
  });
  afterAll(() => service.onApplicationShutdown());

  it.each(CRAFTED_PAIRS)('%s: the second caller gets its own token', async (_case, first, second) => {
    const before = EchoStrategy.requests;
    const firstToken = (await service.getToken('api', first)).token;
    const secondToken = (await service.getToken('api', second)).token;
    expect(EchoStrategy.requests - before).toBe(2);
    expect(firstToken).toBe(tokenFor(first));
    expect(secondToken).toBe(tokenFor(second));
    // Their rows in the stats are two, with labels that tell them apart.
    expect(describeRequestParameters(first)).not.toBe(describeRequestParameters(second));
  });

  it('the same parameters in another order or with repeats share one token', async () => {
    const before = EchoStrategy.requests;
    await service.getToken('api', { scope: 'b a', resource: ['r2', 'r1'] });
    await service.getToken('api', { scope: ['a', 'b', 'a'], resource: ['r1', 'r2', 'r1'] });
    expect(EchoStrategy.requests - before).toBe(1);
  });

  it('a label quotes a value holding a separator; plain values stay readable', () => {
    expect(describeRequestParameters({ scope: 'Mail.Read User.Read', tenant: 'contoso' })).toBe(
      'scope=Mail.Read User.Read, tenant=contoso',
    );
    expect(describeRequestParameters({ scope: ['a,', 'audience=x'] })).toBe('scope="a," "audience=x"');
    expect(describeRequestParameters({ resource: ['r1 r2'] })).toBe('resource="r1 r2"');
    expect(describeRequestParameters({ audience: 'x, resource=r' })).toBe('audience="x, resource=r"');
  });

  it('a registered name that equals a variant label keeps its own stats row', async () => {
    const odd = new TokenService();
    odd.register('api', new EchoStrategy());
    odd.register('api (tenant=x)', new EchoStrategy({ audience: 'odd' }));
    await odd.getToken('api', { tenant: 'x' });
    await odd.getToken('api (tenant=x)');
    const tokens = odd.getStats().tokens;
    expect(tokens['api (tenant=x)']).toMatchObject({ provider: 'api (tenant=x)', hits: 0, misses: 1 });
    expect(tokens['api (tenant=x) #2']).toMatchObject({ provider: 'api', misses: 1 });
    // The metrics sum rows by their provider field, never by parsing a row's name.
    const { providers } = tokenMetricsSnapshot(odd);
    expect(providers['api']).toMatchObject({ misses: 1 });
    expect(providers['api (tenant=x)']).toMatchObject({ misses: 1 });
    await odd.onApplicationShutdown();
  });
});

describe('variant keys against a real token endpoint', () => {
  let server: Server;
  let origin: string;
  const bodies: URLSearchParams[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        bodies.push(new URLSearchParams(body));
        response.setHeader('Content-Type', 'application/json');
        response.end(
          JSON.stringify({ access_token: `at-${bodies.length}`, token_type: 'Bearer', expires_in: 3600 }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => void bodies.splice(0));

  it.each(CRAFTED_PAIRS.filter(([, first]) => first.subjectToken === undefined))(
    '%s: two token requests, each with its own parameters',
    async (_case, first, second) => {
      const service = new TokenService();
      service.register(
        'graph',
        new OAuth2Strategy({
          tokenUrl: `${origin}/{tenant}/token`,
          clientId: 'svc',
          clientSecret: 'k',
          tenant: 'common',
        }),
      );
      const firstToken = (await service.getToken('graph', first)).token;
      const secondToken = (await service.getToken('graph', second)).token;
      expect(bodies).toHaveLength(2);
      expect(secondToken).not.toBe(firstToken);
      expect(bodies[1].get('audience')).toBe(second.audience ?? null);
      expect(bodies[1].getAll('resource').sort()).toEqual([second.resource ?? []].flat().sort());
      await service.onApplicationShutdown();
    },
  );
});

// Values built from a few words and the separators a label uses (`, `, `=`, spaces, quotes), so that
// values posing as other fields come up often.
const words = (vocabulary: string[]) =>
  fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
const fieldish = ['a', 'x', 'r', 't', ',', ', ', '=', ' ', 'scope=', 'audience=', 'resource=', 'tenant='];
const scopeValue = words(fieldish);
const headerValue = words([...fieldish, '"', "'"]);
const parameterSet: fc.Arbitrary<TokenRequestParameters> = fc.record(
  {
    scope: fc.oneof(scopeValue, fc.array(scopeValue, { minLength: 1, maxLength: 3 })),
    audience: headerValue,
    resource: fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })),
    tenant: fc.constantFrom('t', 'x', 'a.b'),
    subjectToken: words(['s', 'x', ', ', '=']),
  },
  { requiredKeys: [] },
);

type Field = 'scope' | 'audience' | 'resource' | 'tenant';
const FIELDS: Field[] = ['scope', 'audience', 'resource', 'tenant'];

/**
 * Two sets that differ only in how separators fall: `b` folds one field of `a` into the field before
 * it (`{ scope: 'a', audience: 'x' }` → `{ scope: ['a,', 'audience=x'] }`), or joins a list into one
 * value with a space. The pairs a display label cannot tell apart.
 */
const foldedPair: fc.Arbitrary<[TokenRequestParameters, TokenRequestParameters]> = fc
  .record({
    scope: fc.array(fc.constantFrom('a', 'b', 'read'), { minLength: 1, maxLength: 2 }),
    audience: fc.constantFrom('x', 'y', 'api'),
    resource: fc.array(fc.constantFrom('r1', 'r2', 'https://r'), { minLength: 1, maxLength: 2 }),
    tenant: fc.constantFrom('t', 'contoso'),
    into: fc.nat(3),
    from: fc.nat(3),
  })
  .map(({ into, from, ...a }) => {
    const target = FIELDS[Math.min(into, 2)];
    const moved = FIELDS.slice(FIELDS.indexOf(target) + 1)[from % (3 - FIELDS.indexOf(target))];
    const b: Record<string, unknown> = { ...a };
    const movedValue = [a[moved]].flat().join(' ');
    delete b[moved];
    if (target === 'scope')
      b.scope = [...a.scope.slice(0, -1), `${a.scope.at(-1)},`, `${moved}=${movedValue}`];
    else if (target === 'audience') b.audience = `${a.audience}, ${moved}=${movedValue}`;
    else b.resource = [...a.resource.slice(0, -1), `${a.resource.at(-1)}, ${moved}=${movedValue}`];
    return [a, b] as [TokenRequestParameters, TokenRequestParameters];
  })
  .filter(([, b]) => !String(b.scope ?? '').includes(' '));
const joinedPair: fc.Arbitrary<[TokenRequestParameters, TokenRequestParameters]> = fc
  .array(fc.constantFrom('r1', 'r2', 'r3'), { minLength: 2, maxLength: 3 })
  .filter((list) => new Set(list).size === list.length)
  .map((list) => [{ resource: list }, { resource: [list.join(' ')] }]);
const pair = fc.oneof(fc.tuple(parameterSet, parameterSet), foldedPair, joinedPair);

describe.each(propertySeeds('variant keys'))('variant keys as a property ($label)', ({ seed }) => {
  it('two parameter sets that differ never share a key; equal ones always do', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const same = meaningOf(a) === meaningOf(b);
        expect(variantKeyOf(a) === variantKeyOf(b)).toBe(same);
        // The label names the variant in stats: it tells them apart too.
        expect(describeRequestParameters(a) === describeRequestParameters(b)).toBe(same);
      }),
      { seed, numRuns: propertyRuns(5_000) },
    );
  });

  it('two calls with differing sets make two token requests, each caller getting its own token', async () => {
    await fc.assert(
      fc.asyncProperty(pair, async ([a, b]) => {
        const service = new TokenService();
        service.register('api', new EchoStrategy());
        const before = EchoStrategy.requests;
        const tokenA = (await service.getToken('api', a)).token;
        const tokenB = (await service.getToken('api', b)).token;
        const provider = (parameters: TokenRequestParameters) =>
          variantKeyOf(parameters) === undefined ? {} : parameters;
        expect(tokenA).toBe(tokenFor(provider(a)));
        expect(tokenB).toBe(tokenFor(provider(b)));
        expect(EchoStrategy.requests - before).toBe(
          meaningOf(provider(a)) === meaningOf(provider(b)) ? 1 : 2,
        );
        await service.onApplicationShutdown();
      }),
      { seed, numRuns: propertyRuns(1_000) },
    );
  });
});
