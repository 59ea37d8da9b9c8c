import axios, { type AxiosInstance, type CreateAxiosDefaults } from 'axios';
import axios179 from 'axios-1.7.9';
import axiosLowest from 'axios-lowest';

/** The parts of an axios module a test needs, whatever its version's own types say. */
interface AxiosModule {
  VERSION: string;
  create(config?: object): unknown;
  getAdapter(name: string): unknown;
}

/** One axios version of the declared peer range, installed side by side (aliased devDependencies). */
export interface AxiosVersion {
  label: string;
  version: string;
  /** Has the `fetch` adapter (axios >= 1.7). */
  hasFetchAdapter: boolean;
  /**
   * An instance of that version. Other copies than the root one get their own `http` adapter (or
   * `fetch`, on request) passed in: an application has one axios, so the library resolves adapter
   * names with it; here the root copy would otherwise lend its own adapter to the older versions.
   */
  create(config?: CreateAxiosDefaults, adapter?: 'http' | 'fetch'): AxiosInstance;
}

function version(label: string, module: AxiosModule, root: boolean): AxiosVersion {
  return {
    label: `${label} ${module.VERSION}`,
    version: module.VERSION,
    hasFetchAdapter: !/^1\.[0-6]\./.test(module.VERSION),
    create: (config = {}, adapter) =>
      module.create({
        ...config,
        ...(adapter !== undefined ? { adapter: module.getAdapter(adapter) } : {}),
        ...(adapter === undefined && !root ? { adapter: module.getAdapter('http') } : {}),
      }) as AxiosInstance,
  };
}

/**
 * Both ends of the peer range (`^1.5.0`: the lowest it allows, and the newest, which is the root
 * copy the project locks) and 1.7.9, whose follow-redirects keeps `Authorization` for subdomains.
 */
export const AXIOS_VERSIONS: readonly AxiosVersion[] = [
  version('lowest', axiosLowest as unknown as AxiosModule, false),
  version('follow-redirects era', axios179 as unknown as AxiosModule, false),
  version('newest', axios as unknown as AxiosModule, true),
];
