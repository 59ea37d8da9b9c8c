import axios, { type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios';

let fetchAdapter: { adapter: AxiosAdapter | undefined } | undefined;

/** axios' fetch adapter, looked up once; undefined before axios 1.7, which has none. */
export function axiosFetchAdapter(): AxiosAdapter | undefined {
  if (fetchAdapter === undefined) {
    try {
      fetchAdapter = { adapter: axios.getAdapter('fetch') };
    } catch {
      fetchAdapter = { adapter: undefined };
    }
  }
  return fetchAdapter.adapter;
}

/**
 * The adapter axios would use for `spec`: the config's function, else resolved by name with the
 * axios the library is installed with (the peer dependency, the application's one). An instance of
 * another axios copy that names its adapter gets that copy's adapter only if it passes the function.
 */
export function resolveAdapter(spec: InternalAxiosRequestConfig['adapter']): AxiosAdapter {
  return typeof spec === 'function' ? spec : axios.getAdapter(spec ?? axios.defaults.adapter);
}
