import { HttpService } from '@nestjs/axios';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { isAxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { currentTokenProvider } from './token-context.js';
import { createTokenAdapter, isStream, tokenAdapterStateOf } from './token-http.adapter.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';
import { requestUrlOf } from './axios-request-url.js';
import { insufficientScopeOf, isNonceChallenge } from './token-challenge.js';
import './axios-augmentation.js';

/** On an axios instance: the interceptor that owns it, so nothing is installed twice. */
const INSTALLED_BY = Symbol.for('nest-token-manager:axios-installed-by');

type InstrumentedAxios = AxiosInstance & { [INSTALLED_BY]?: TokenHttpInterceptor };

/**
 * Installs request and response interceptors on the axios instance of every `HttpService` in the
 * application (each `HttpModule.register()` has its own instance; plain `HttpModule` imports share
 * axios' default one), once per instance however many services wrap it.
 *
 * - request: notes the `@UseToken()` provider in effect and puts the token adapter in front of the
 *   request's own adapter. The adapter, run after every request interceptor (the application's too,
 *   whenever they were registered), sets `Authorization` for the provider in effect (`{ token }`
 *   option, else `@UseToken()`) if the final URL's origin is allowed, never over a header the caller
 *   set, and follows redirects itself, checking each hop's origin (see `createTokenAdapter`);
 * - response: on a 401 to a request whose final hop carried our token, evicts that token (if still
 *   cached), gets a fresh one and retries the request once; a 401 or 403 whose `WWW-Authenticate`
 *   says `insufficient_scope` becomes a `TokenInsufficientScopeError`, with no refresh and no retry.
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

  /** Cheap on purpose: the token is decided by the adapter, on the config that is actually sent. */
  private onRequest(config: InternalAxiosRequestConfig): InternalAxiosRequestConfig {
    const previous = tokenAdapterStateOf(config.adapter);
    config.adapter = createTokenAdapter(
      {
        inner: previous === undefined ? config.adapter : previous.inner,
        contextProvider: currentTokenProvider(),
        retried: previous?.retried ?? false,
        provider: previous?.provider,
        token: previous?.token,
        header: previous?.header,
      },
      this.authorizer,
    );
    return config;
  }

  private async onResponseError(instance: AxiosInstance, error: unknown): Promise<unknown> {
    const status = isAxiosError(error) ? error.response?.status : undefined;
    if (!isAxiosError(error) || (status !== 401 && status !== 403) || error.config === undefined) throw error;
    const config = error.config;
    const state = tokenAdapterStateOf(config.adapter);
    if (
      state?.provider === undefined ||
      state.token === undefined ||
      state.header === undefined ||
      state.answeredWithToken !== true ||
      config.headers.get('Authorization') !== state.header
    ) {
      throw error;
    }
    // RFC 6750 §3.1: a token of the same scope will not do; neither a refresh nor a retry helps.
    const origin = requestUrlOf(config)?.origin ?? 'unknown';
    const wwwAuthenticate = error.response?.headers['www-authenticate'] as string | string[] | undefined;
    const scopeError = insufficientScopeOf(
      status!,
      wwwAuthenticate,
      state.header,
      state.provider.name,
      origin,
    );
    if (scopeError) throw scopeError;
    if (status !== 401 || state.retried || isNonceChallenge(wwwAuthenticate, state.header)) throw error;
    if (isStream(config.data)) throw error; // a streamed body is gone; it cannot be sent again

    const info = await state.provider.renewAfterUnauthorized(state.token);
    const header = info.authorizationHeader;
    config.headers.set('Authorization', header);
    config.adapter = createTokenAdapter(
      {
        inner: state.inner,
        contextProvider: state.contextProvider,
        retried: true,
        provider: state.provider,
        token: info.token,
        header,
      },
      this.authorizer,
    );
    const response = await instance.request(config);
    // The API answered the renewed token with something else than 401 (a `validateStatus` may let
    // a 401 through): it accepted it.
    if (response.status !== 401) state.provider.noteTokenAccepted(info.token);
    return response;
  }
}
