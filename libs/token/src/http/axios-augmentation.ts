/**
 * Adds the per-request `token` option to axios' request config, so
 * `http.get(url, { token: 'kling' })` and `{ token: false }` type-check.
 */
declare module 'axios' {
  // The type parameters must repeat axios' own for the declarations to merge.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface AxiosRequestConfig<D = any, P = any> {
    /**
     * Which provider's token the request carries: a provider name overrides the `@UseToken()` in
     * effect; `false` sends the request without a token. Origin rules apply either way.
     */
    token?: string | false;
  }
}

export {};
