import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/internal';
import { runDecoratedMethod } from './token-context.js';
import { TokenMetadataAccessor, type UseTokenMetadata } from './token-metadata.accessor.js';

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;
type AnyClass = abstract new (...args: any[]) => unknown;

/** Set on our wrappers: the method they wrap and the provider they put in effect. */
const WRAPPED_METHOD = Symbol.for('nest-token-manager:wrapped-method');
const WRAPPED_PROVIDER = Symbol.for('nest-token-manager:wrapped-provider');
const WRAPPED_LEVEL = Symbol.for('nest-token-manager:wrapped-level');

interface WrappedMethod extends AnyMethod {
  [WRAPPED_METHOD]: AnyMethod;
  [WRAPPED_PROVIDER]: string | undefined;
  [WRAPPED_LEVEL]: Level;
}

type Level = 'class' | 'method';

/**
 * Finds the providers and controllers that use `@UseToken()` and wraps their methods so every call
 * (and everything it awaits) runs with the provider in effect. Methods are wrapped on the class
 * prototype, so request-scoped and transient instances, created later, get them too. A method's own
 * decorator overrides its class's, also in the class's own helpers that it calls.
 *
 * Wrapping is idempotent (a wrapper is recognised and replaced, never wrapped again), so several
 * applications in one process, as in tests, share the same prototypes safely.
 */
@Injectable()
export class TokenContextExplorer implements OnModuleInit {
  private readonly logger = new Logger('TokenContextExplorer');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly accessor: TokenMetadataAccessor,
  ) {
    // Controllers' route handlers are bound before any onModuleInit runs, so classes known by their
    // metatype are wrapped now; onModuleInit adds the classes of factory and value providers.
    this.explore(false);
  }

  onModuleInit(): void {
    this.explore(true);
  }

  private explore(withInstances: boolean): void {
    const seen = new Set<AnyClass>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const target = this.classOf(wrapper, withInstances);
      if (target === undefined || seen.has(target)) continue;
      seen.add(target);
      this.wrapClass(target);
    }
  }

  private classOf(wrapper: InstanceWrapper, withInstances: boolean): AnyClass | undefined {
    if (!wrapper.isNotMetatype) return wrapper.metatype as AnyClass;
    if (!withInstances || !wrapper.isDependencyTreeStatic()) return undefined;
    const instance: unknown = wrapper.instance;
    if (typeof instance !== 'object' || instance === null) return undefined;
    const constructor = (instance as { constructor?: unknown }).constructor;
    return typeof constructor === 'function' && constructor !== Object
      ? (constructor as AnyClass)
      : undefined;
  }

  private wrapClass(target: AnyClass): void {
    const prototype = target.prototype as Record<string, unknown> | undefined;
    if (prototype === undefined || prototype === null) return;
    const classProvider = this.accessor.getClassProvider(target);
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const current = prototype[name] as AnyMethod;
      const original = unwrap(current);
      const methodProvider = this.accessor.getMethodProvider(original);
      const provider: UseTokenMetadata = methodProvider !== undefined ? methodProvider : classProvider;
      if (provider === undefined) continue;
      const inEffect = provider === false ? undefined : provider;
      const level: Level = methodProvider !== undefined ? 'method' : 'class';
      const own = Object.getOwnPropertyDescriptor(prototype, name);
      if (
        isWrapper(own?.value) &&
        own.value[WRAPPED_PROVIDER] === inEffect &&
        own.value[WRAPPED_LEVEL] === level
      ) {
        continue;
      }
      if (own !== undefined && !own.configurable) {
        this.logger.warn(`cannot apply @UseToken to ${target.name}.${name}: the method is not configurable`);
        continue;
      }
      Object.defineProperty(prototype, name, {
        value: wrapMethod(original, inEffect, level),
        writable: own?.writable ?? true,
        enumerable: own?.enumerable ?? false,
        configurable: true,
      });
    }
  }
}

function isWrapper(value: unknown): value is WrappedMethod {
  return typeof value === 'function' && WRAPPED_METHOD in value;
}

function unwrap(method: AnyMethod): AnyMethod {
  return isWrapper(method) ? method[WRAPPED_METHOD] : method;
}

/** A wrapper that keeps the method's name, length and metadata, so other explorers still see it. */
function wrapMethod(original: AnyMethod, provider: string | undefined, level: Level): WrappedMethod {
  const wrapped = function (this: unknown, ...args: unknown[]) {
    return runDecoratedMethod(provider, level, this, () => original.apply(this, args));
  } as WrappedMethod;
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), wrapped);
  }
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  Object.defineProperty(wrapped, WRAPPED_METHOD, { value: original });
  Object.defineProperty(wrapped, WRAPPED_PROVIDER, { value: provider });
  Object.defineProperty(wrapped, WRAPPED_LEVEL, { value: level });
  return wrapped;
}
