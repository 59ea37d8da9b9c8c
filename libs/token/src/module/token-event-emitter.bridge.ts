import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { TokenEventMap, TokenEventName } from '../core/token.events.js';
import { TokenService } from './token.service.js';

/** Prefix of the events re-emitted on `@nestjs/event-emitter`: `token.refreshed`, `token.expired`… */
export const TOKEN_EVENT_PREFIX = 'token.';

/** Every event of {@link TokenEventMap}; the `satisfies` makes a new event impossible to forget. */
const TOKEN_EVENT_NAMES = Object.keys({
  refreshed: true,
  'refresh-failed': true,
  'fallback-served': true,
  expired: true,
} satisfies Record<TokenEventName, true>) as TokenEventName[];

interface EventSink {
  emit(event: string, ...values: unknown[]): boolean;
}

/**
 * Re-emits `TokenService.events` on `@nestjs/event-emitter`'s `EventEmitter2` as `token.refreshed`,
 * `token.refresh-failed`, `token.fallback-served` and `token.expired`, with the same payloads, when
 * that package is installed and `EventEmitterModule.forRoot()` is imported; otherwise does nothing.
 * Events and log lines come from the same places in `TokenService`.
 *
 * @publicApi
 * @example
 * \@OnEvent('token.refresh-failed')
 * onRefreshFailed({ provider, consecutiveFailures }: TokenEventMap['refresh-failed'][0]) { … }
 */
@Injectable()
export class TokenEventEmitterBridge implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('TokenEventEmitterBridge');
  private readonly detachers: (() => void)[] = [];

  constructor(
    private readonly tokens: TokenService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** True once listeners forward to an `EventEmitter2`. */
  get attached(): boolean {
    return this.detachers.length > 0;
  }

  async onModuleInit(): Promise<void> {
    const sink = await this.findEventEmitter2();
    if (sink === undefined) return;
    for (const name of TOKEN_EVENT_NAMES) {
      const forward = (payload: TokenEventMap[typeof name][0]) => {
        sink.emit(`${TOKEN_EVENT_PREFIX}${name}`, payload);
      };
      const events = this.tokens.events as unknown as NodeJS.EventEmitter;
      events.on(name, forward);
      this.detachers.push(() => events.off(name, forward));
    }
    this.logger.debug(`forwarding token events to EventEmitter2 as "${TOKEN_EVENT_PREFIX}*"`);
  }

  onApplicationShutdown(): void {
    this.detachers.splice(0).forEach((detach) => detach());
  }

  private async findEventEmitter2(): Promise<EventSink | undefined> {
    let eventEmitter2Class: unknown;
    try {
      // Optional peer: loaded at run time only. webpackIgnore keeps bundlers from resolving it at build time.
      const loaded = await import(/* webpackIgnore: true */ '@nestjs/event-emitter');
      eventEmitter2Class = loaded.EventEmitter2;
    } catch {
      return undefined; // the package is not installed
    }
    if (typeof eventEmitter2Class !== 'function') return undefined;
    try {
      const sink = this.moduleRef.get(eventEmitter2Class as new () => EventSink, { strict: false });
      return typeof sink?.emit === 'function' ? sink : undefined;
    } catch {
      return undefined; // installed, but EventEmitterModule is not imported
    }
  }
}
