import type { InternalAxiosRequestConfig } from 'axios';
import { parseAbsoluteUrl } from './origin-policy.js';

const ABSOLUTE_URL = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * Where axios will send the request: `baseURL` + `url` combined as axios does (an absolute `url` wins
 * unless `allowAbsoluteUrls: false`), or `undefined` when that is not an absolute URL.
 *
 * @publicApi
 */
export function requestUrlOf(
  config: Pick<InternalAxiosRequestConfig, 'url' | 'baseURL' | 'allowAbsoluteUrls'>,
): URL | undefined {
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
