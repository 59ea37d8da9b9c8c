import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import type { TokenSource } from '../core/token-source.js';
import { closestName } from './closest-name.js';
import type { TokenMetadataAccessor } from './token-metadata.accessor.js';

type AnyClass = abstract new (...args: any[]) => unknown;

/** One `@UseToken('name')` in the application: where it sits and the name it gives. */
interface UseTokenSite {
  where: string;
  provider: string;
}

/**
 * At start-up, after every module's `onModuleInit` (where providers may be registered), checks that
 * each `@UseToken('name')` of the application names a registered provider: a typo would otherwise
 * start fine and fail every request. `unregisteredProviders: 'warn'` logs instead, for applications
 * that `register()` their providers later. Built by the module (it needs the resolved configuration).
 */
export class UseTokenProviderCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('TokenModule');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: TokenMetadataAccessor,
    private readonly tokens: TokenSource,
    private readonly mode: 'fail' | 'warn' = 'fail',
  ) {}

  onApplicationBootstrap(): void {
    const known = this.tokens.providerNames();
    const unknown = this.sites().filter((site) => !known.includes(site.provider));
    if (unknown.length === 0) return;
    const registered = known.length > 0 ? known.map((name) => `"${name}"`).join(', ') : 'none';
    const lines = unknown.map(({ where, provider }) => {
      const guess = closestName(provider, known);
      return (
        `@UseToken('${provider}') on ${where}: token provider "${provider}" is not registered` +
        (guess === undefined ? '' : `; did you mean "${guess}"?`)
      );
    });
    if (this.mode === 'warn') {
      // One line per use: each is its own finding in the logs.
      for (const line of lines) this.logger.warn(`${line} (registered providers: ${registered})`);
      return;
    }
    const message =
      `${lines.join('\n')}\nregistered providers: ${registered}. A provider registered later with ` +
      `TokenService.register(): set unregisteredProviders: 'warn'.`;
    throw new InvalidTokenOptionsError(message, unknown[0].provider, 'provider');
  }

  /** Every class- and method-level `@UseToken('name')` of the application's providers and controllers. */
  private sites(): UseTokenSite[] {
    const sites: UseTokenSite[] = [];
    const seen = new Set<AnyClass>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const target = classOf(wrapper.isNotMetatype ? wrapper.instance : undefined, wrapper.metatype);
      if (target === undefined || seen.has(target)) continue;
      seen.add(target);
      const classProvider = this.accessor.getClassProvider(target);
      if (typeof classProvider === 'string') sites.push({ where: target.name, provider: classProvider });
      const prototype = target.prototype as Record<string, unknown> | undefined;
      if (prototype === undefined || prototype === null) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[name];
        if (typeof method !== 'function') continue;
        const methodProvider = this.accessor.getMethodProvider(method as (...args: unknown[]) => unknown);
        if (typeof methodProvider === 'string' && methodProvider !== classProvider)
          sites.push({ where: `${target.name}.${name}`, provider: methodProvider });
      }
    }
    return sites;
  }
}

/** The class of a provider: its metatype, or for factory and value providers the instance's class. */
function classOf(instance: unknown, metatype: unknown): AnyClass | undefined {
  if (instance === undefined) return typeof metatype === 'function' ? (metatype as AnyClass) : undefined;
  if (typeof instance !== 'object' || instance === null) return undefined;
  const constructor = (instance as { constructor?: unknown }).constructor;
  return typeof constructor === 'function' && constructor !== Object ? (constructor as AnyClass) : undefined;
}
