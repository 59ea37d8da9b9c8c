import { parseAbsoluteUrl } from './origin-policy.js';

const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * The parts of an axios request config that say where it goes. Typed here rather than picked from
 * axios' own config type: `allowAbsoluteUrls` only exists from axios 1.8 on, and the declarations
 * must compile against every axios the peer range allows.
 *
 * @publicApi
 */
export interface AxiosRequestTarget {
  url?: string;
  baseURL?: string;
  allowAbsoluteUrls?: boolean;
}

/**
 * Where axios will send the request: `baseURL` + `url` combined as axios does (an absolute `url` wins
 * unless `allowAbsoluteUrls: false`), or `undefined` when that is not an absolute URL.
 *
 * @publicApi
 */
export function requestUrlOf(config: AxiosRequestTarget): URL | undefined {
  const url = config.url ?? '';
  const baseURL = config.baseURL;
  const combine = baseURL && (!ABSOLUTE_URL.test(url) || config.allowAbsoluteUrls === false);
  const full = combine
    ? url
      ? `${baseURL.replace(/\/?\/$/, '')}/${url.replace(/^\/+/, '')}`
      : baseURL
    : url;
  return parseAbsoluteUrl(full);
}
