import type { InjectionToken, Type } from '@nestjs/common';
import { z } from 'zod';
import { providerOptionsSchema } from './provider-options.schema.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';

const isFunction = (value: unknown) => typeof value === 'function';

/**
 * A strategy of the application's own, resolved through Nest DI so it can inject anything.
 * Give exactly one of `useClass`, `useFactory` (with `inject`) or `useExisting`.
 *
 * @publicApi
 * @example
 * { type: 'custom', useClass: VaultStrategy }
 * { type: 'custom', useFactory: (vault: VaultClient) => new VaultStrategy(vault), inject: [VaultClient] }
 * { type: 'custom', useExisting: 'PAYMENTS_TOKEN_STRATEGY' }
 */
export const customProviderSchema = providerOptionsSchema
  .extend({
    type: z.literal('custom'),
    useClass: z.custom<Type<TokenStrategy>>(isFunction, 'must be a class').optional(),
    useFactory: z
      .custom<(...deps: any[]) => TokenStrategy | Promise<TokenStrategy>>(isFunction, 'must be a function')
      .optional(),
    inject: z.array(z.custom<InjectionToken>((value) => value !== undefined && value !== null)).optional(),
    useExisting: z.custom<InjectionToken>((value) => value !== undefined && value !== null).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const given = [value.useClass, value.useFactory, value.useExisting].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['useClass'],
        message: 'exactly one of useClass, useFactory, useExisting is required',
      });
    }
  });

/** A `custom` provider: a strategy of the application's own, resolved through Nest DI. @publicApi */
export type CustomProviderConfig = z.input<typeof customProviderSchema>;
