import { HttpService } from '@nestjs/axios';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { isAxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { parseAbsoluteUrl } from './origin-policy.js';
import { currentTokenProvider } from './token-context.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';
import './axios-augmentation.js';

/** On an axios instance: the interceptor that owns it, so nothing is installed twice. */
const INSTALLED_BY = Symbol.for('nest-token-manager:axios-installed-by');
/** On a request config: the token we put in its `Authorization` header. */
const APPLIED_TOKEN = Symbol.for('nest-token-manager:applied-token');

interface AppliedToken {
  readonly provider: string;
  readonly token: string;
  /** The exact header value we set; any other value is the caller's own. */
  readonly header: string;
  /** Already retried after a 401: a second 401 goes to the caller. */
  readonly retried: boolean;
}

type TokenRequestConfig = InternalAxiosRequestConfig & { [APPLIED_TOKEN]?: AppliedToken };
type InstrumentedAxios = AxiosInstance & { [INSTALLED_BY]?: TokenHttpInterceptor };

const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * Where axios will send the request: `baseURL` + `url` combined as axios does (an absolute `url` wins
 * unless `allowAbsoluteUrls: false`), or `undefined` when that is not an absolute URL.
 *
 * @publicApi
 */
export function requestUrlOf(
  config: Pick<InternalAxiosRequestConfig, 'url' | 'baseURL' | 'allowAbsoluteUrls'>,
): URL | undefined {
  const url = config.url ?? '';
  const baseURL = config.baseURL;
  const combine = baseURL && (!ABSOLUTE_URL.test(url) || config.allowAbsoluteUrls === false);
  const full = combine
    ? url
      ? `${baseURL.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}`
      : baseURL
    : url;
  return parseAbsoluteUrl(full);
}

/**
 * Installs request and response interceptors on the axios instance of every `HttpService` in the
 * application (each `HttpModule.register()` has its own instance; plain `HttpModule` imports share
 * axios' default one), once per instance however many services wrap it.
 *
 * - request: sets `Authorization` for the provider in effect (`{ token }` option, else `@UseToken()`),
 *   subject to the origin rules; a header the caller set is never touched;
 * - response: on a 401 to a request that carried our token, evicts that token (if still cached),
 *   gets a fresh one and retries the request once.
 *
 * @publicApi
 */
@Injectable()
export class TokenHttpInterceptor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TokenHttp');
  private readonly installed = new Map<AxiosInstance, { request: number; response: number }>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly authorizer: TokenRequestAuthorizer,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.isDependencyTreeStatic()) continue;
      const instance: unknown = wrapper.instance;
      if (instance instanceof HttpService) this.instrument(instance);
    }
  }

  onApplicationShutdown(): void {
    for (const [instance, ids] of this.installed) {
      instance.interceptors.request.eject(ids.request);
      instance.interceptors.response.eject(ids.response);
      delete (instance as InstrumentedAxios)[INSTALLED_BY];
    }
    this.installed.clear();
  }

  /**
   * Installs the interceptors on an `HttpService` or axios instance of your own, e.g. one created
   * after start-up. Does nothing if they are already there.
   */
  instrument(target: HttpService | AxiosInstance): void {
    const instance = (target instanceof HttpService ? target.axiosRef : target) as InstrumentedAxios;
    const owner = instance[INSTALLED_BY];
    if (owner === this) return;
    if (owner !== undefined) {
      // axios' default instance is shared by every application in the process that imports plain HttpModule.
      this.logger.warn(
        'an axios instance already carries the token interceptors of another application; left as is',
      );
      return;
    }
    Object.defineProperty(instance, INSTALLED_BY, { value: this, configurable: true, enumerable: false });
    const request = instance.interceptors.request.use((config) => this.onRequest(config));
    const response = instance.interceptors.response.use(undefined, (error: unknown) =>
      this.onResponseError(instance, error),
    );
    this.installed.set(instance, { request, response });
  }

  private async onRequest(config: TokenRequestConfig): Promise<TokenRequestConfig> {
    const applied = config[APPLIED_TOKEN];
    const ours = applied !== undefined && config.headers.get('Authorization') === applied.header;
    // A header the caller set is theirs; ours (a retry, a config sent again) is renewed from the cache.
    if (!ours && config.headers.has('Authorization')) return config;
    const provider =
      config.token === false
        ? undefined
        : typeof config.token === 'string'
          ? config.token
          : (currentTokenProvider() ?? applied?.provider);

    const info =
      provider === undefined ? undefined : await this.authorizer.tokenFor(provider, requestUrlOf(config));
    if (provider === undefined || info === undefined) {
      if (ours) config.headers.delete('Authorization');
      delete config[APPLIED_TOKEN];
      return config;
    }
    const header = info.authorizationHeader;
    config.headers.set('Authorization', header);
    config[APPLIED_TOKEN] = { provider, token: info.token, header, retried: applied?.retried ?? false };
    return config;
  }

  private async onResponseError(instance: AxiosInstance, error: unknown): Promise<unknown> {
    if (!isAxiosError(error) || error.response?.status !== 401 || error.config === undefined) throw error;
    const config = error.config as TokenRequestConfig;
    const applied = config[APPLIED_TOKEN];
    if (applied === undefined || applied.retried || config.headers.get('Authorization') !== applied.header) {
      throw error;
    }
    if (isStream(config.data)) throw error; // a streamed body is gone; it cannot be sent again

    const info = await this.authorizer.renewAfterUnauthorized(applied.provider, applied.token);
    const header = info.authorizationHeader;
    config.headers.set('Authorization', header);
    config[APPLIED_TOKEN] = { provider: applied.provider, token: info.token, header, retried: true };
    return instance.request(config);
  }
}

function isStream(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (typeof (data as { pipe?: unknown }).pipe === 'function' || data instanceof ReadableStream)
  );
}
