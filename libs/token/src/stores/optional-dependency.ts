import { InvalidTokenOptionsError } from '../core/token.errors.js';

/** An optional peer dependency: the package, and the option that needs it. */
export interface OptionalDependency {
  packageName: string;
  /** The option as the user wrote it, e.g. `store: 'redis'`. */
  neededBy: string;
  /** The configuration field the error names. */
  field: string;
}

export const IOREDIS: OptionalDependency = {
  packageName: 'ioredis',
  neededBy: "store: 'redis'",
  field: 'store',
};

/**
 * Loads an optional peer dependency. Its absence becomes an `InvalidTokenOptionsError` that says
 * which option needs which package and how to install it, instead of Node's raw "Cannot find package".
 * Any other failure (a broken install, an error while the package loads) goes through unchanged.
 */
export async function importOptional<T = unknown>(
  dependency: OptionalDependency,
  load: () => Promise<T> = () => import(dependency.packageName) as Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isNotFound(error, dependency.packageName)) throw error;
    const { packageName, neededBy, field } = dependency;
    throw new InvalidTokenOptionsError(
      `${neededBy} needs the package "${packageName}", which is not installed: ` +
        `npm install ${packageName} (it is an optional peer dependency of nest-token-manager)`,
      undefined,
      field,
    );
  }
}

/** Node's ESM loader says ERR_MODULE_NOT_FOUND, require() and Jest's resolver MODULE_NOT_FOUND. */
function isNotFound(error: unknown, packageName: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    new RegExp(`['"]${packageName.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}['"/]`).test(message)
  );
}
