import { describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { IOREDIS, importOptional } from './optional-dependency.js';

const MISSING = 'ntm-no-such-package-5b0e';

describe('importOptional', () => {
  it('turns a package that is not installed into a typed error: the option, the package, the install command', async () => {
    const dependency = { ...IOREDIS, packageName: MISSING };
    const failure = importOptional(dependency);
    await expect(failure).rejects.toBeInstanceOf(InvalidTokenOptionsError);
    await expect(failure).rejects.toMatchObject({
      code: 'TOKEN_INVALID_OPTIONS',
      field: 'store',
      message:
        `store: 'redis' needs the package "${MISSING}", which is not installed: ` +
        `npm install ${MISSING} (it is an optional peer dependency of nest-token-manager)`,
    });
  });

  it('loads a package that is there', async () => {
    const loaded = await importOptional<{ Redis: unknown }>(IOREDIS);
    expect(typeof loaded.Redis).toBe('function');
  });

  it('lets any other failure through unchanged, also another package missing', async () => {
    const broken = new Error('boom while loading');
    await expect(importOptional(IOREDIS, () => Promise.reject(broken))).rejects.toBe(broken);
    const other = Object.assign(new Error(`Cannot find package '${MISSING}' imported from x.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(importOptional(IOREDIS, () => Promise.reject(other))).rejects.toBe(other);
  });
});
