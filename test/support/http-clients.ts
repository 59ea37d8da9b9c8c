import { HttpModule, HttpService } from '@nestjs/axios';
import { Inject, Injectable, Module, Scope, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AxiosRequestConfig } from 'axios';
import { firstValueFrom, type Observable } from 'rxjs';
import {
  JwtStrategy,
  TokenModule,
  UseToken,
  type TokenInfo,
  type TokenProviderConfig,
  type TokenStrategy,
} from '@app/token';

/** HMAC secret shared by the test providers and the test API (which verifies with it). */
export const API_SECRET = 'http-e2e-secret-0123456789abcdef';
/** Origin of the test API, injected into the clients. */
export const API_ORIGIN = Symbol('API_ORIGIN');

interface WhoAmI {
  issuer: string | null;
}

/** A strategy that counts its `generate()` calls around another one. */
export class CountingStrategy implements TokenStrategy {
  calls = 0;
  constructor(private readonly inner: TokenStrategy) {}
  get cacheKey(): string {
    return this.inner.cacheKey;
  }
  generate(): Promise<TokenInfo> {
    this.calls++;
    return this.inner.generate();
  }
}

/**
 * A self-signed HS256 JWT provider (`JwtStrategy`) whose `iss` is `accessKey`, counted. Each token
 * carries its sequence number (`seq`): `JwtStrategy` alone mints the same JWT twice within a second,
 * and tests of "evict only the rejected token" need a new token to differ from the old one.
 */
export function countingJwt(accessKey: string): CountingStrategy {
  const base = new JwtStrategy({ accessKey, secretKey: API_SECRET });
  let seq = 0;
  const sequenced: TokenStrategy = {
    cacheKey: base.cacheKey,
    generate: () => new JwtStrategy({ accessKey, secretKey: API_SECRET, claims: { seq: ++seq } }).generate(),
  };
  return new CountingStrategy(sequenced);
}

/** A `custom` provider config serving the given strategy. */
export function customProvider(
  strategy: TokenStrategy,
  options: { baseUrls?: string[]; strictOrigin?: boolean } = {},
): TokenProviderConfig {
  return { type: 'custom', useFactory: () => strategy, ...options };
}

/** Calls the test API; answers the `iss` of the token the API saw (null: none). */
abstract class ApiCaller {
  constructor(
    protected readonly http: HttpService,
    protected readonly origin: string,
  ) {}

  protected async call(path = '/v1/whoami', config?: AxiosRequestConfig): Promise<string | null> {
    const { data } = await firstValueFrom(this.http.get<WhoAmI>(`${this.origin}${path}`, config));
    return data.issuer;
  }
}

@Injectable()
@UseToken('kling')
export class KlingClient extends ApiCaller {
  constructor(http: HttpService, @Inject(API_ORIGIN) origin: string) {
    super(http, origin);
  }

  whoAmI(config?: AxiosRequestConfig): Promise<string | null> {
    return this.call('/v1/whoami', config);
  }

  /** The request goes out after several awaits of unrelated work. */
  async whoAmIAfterAwaits(): Promise<string | null> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await Promise.resolve();
    return this.call();
  }

  /** The Observable is subscribed to by the caller, after this method has returned. */
  whoAmILazily(): Observable<{ data: WhoAmI }> {
    return this.http.get<WhoAmI>(`${this.origin}/v1/whoami`);
  }

  @UseToken('other')
  whoAmIAsOther(): Promise<string | null> {
    return this.call();
  }

  @UseToken(false)
  anonymously(): Promise<string | null> {
    return this.call();
  }

  /** Any URL, e.g. another origin. */
  async get(url: string, config?: AxiosRequestConfig): Promise<number> {
    const response = await firstValueFrom(this.http.get(url, config));
    return response.status;
  }
}

@Injectable()
export class PlainClient extends ApiCaller {
  constructor(http: HttpService, @Inject(API_ORIGIN) origin: string) {
    super(http, origin);
  }

  whoAmI(config?: AxiosRequestConfig): Promise<string | null> {
    return this.call('/v1/whoami', config);
  }

  @UseToken('other')
  whoAmIAsOther(): Promise<string | null> {
    return this.call();
  }
}

@Injectable({ scope: Scope.REQUEST })
@UseToken('kling')
export class RequestScopedClient extends ApiCaller {
  constructor(http: HttpService, @Inject(API_ORIGIN) origin: string) {
    super(http, origin);
  }

  whoAmI(): Promise<string | null> {
    return this.call();
  }
}

@Injectable({ scope: Scope.TRANSIENT })
@UseToken('other')
export class TransientClient extends ApiCaller {
  constructor(http: HttpService, @Inject(API_ORIGIN) origin: string) {
    super(http, origin);
  }

  whoAmI(): Promise<string | null> {
    return this.call();
  }
}

@Module({
  imports: [HttpModule],
  providers: [KlingClient, PlainClient, RequestScopedClient, TransientClient],
  exports: [KlingClient, PlainClient, RequestScopedClient, TransientClient],
})
export class HttpClientsModule {}

/**
 * A started testing module with TokenModule (no refresh sweep), the clients and the API origin;
 * `logger` receives what Nest's Logger prints.
 */
export async function createHttpTestApp(
  apiOrigin: string,
  providers: Record<string, TokenProviderConfig>,
  logger?: LoggerService,
): Promise<TestingModule> {
  const builder = Test.createTestingModule({
    imports: [
      TokenModule.forRoot({ providers, refresh: { enabled: false } }),
      {
        module: class ApiOriginModule {},
        global: true,
        providers: [{ provide: API_ORIGIN, useValue: apiOrigin }],
        exports: [API_ORIGIN],
      },
      HttpClientsModule,
    ],
  });
  if (logger !== undefined) builder.setLogger(logger);
  const moduleRef = await builder.compile();
  return moduleRef.init();
}
