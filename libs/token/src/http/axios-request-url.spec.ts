import { describe, expect, it } from '@jest/globals';
import { requestUrlOf, type AxiosRequestTarget } from './axios-request-url.js';

describe('requestUrlOf', () => {
  it.each<[AxiosRequestTarget, string | undefined]>([
    [{ url: 'https://a.example/x' }, 'https://a.example/x'],
    [{ url: '/x' }, undefined],
    [{}, undefined],
    [{ baseURL: 'https://a.example/v1' }, 'https://a.example/v1'],
    [{ baseURL: 'https://a.example/v1', url: '' }, 'https://a.example/v1'],
    [{ baseURL: 'https://a.example/v1', url: 'items' }, 'https://a.example/v1/items'],
    [{ baseURL: 'https://a.example/v1/', url: '/items' }, 'https://a.example/v1/items'],
    [{ baseURL: 'https://a.example/v1//', url: '/items' }, 'https://a.example/v1/items'],
    [{ baseURL: 'https://a.example/v1', url: '///items' }, undefined], // protocol-relative: absolute
    // An absolute url wins over baseURL, unless allowAbsoluteUrls is false (axios 1.8+).
    [{ baseURL: 'https://a.example/v1', url: 'https://b.example/y' }, 'https://b.example/y'],
    [{ baseURL: 'https://a.example/v1', url: 'HTTPS://b.example/y' }, 'https://b.example/y'],
    [{ baseURL: 'https://a.example/v1', url: '//b.example/y' }, undefined],
    [
      { baseURL: 'https://a.example/v1', url: 'https://b.example/y', allowAbsoluteUrls: true },
      'https://b.example/y',
    ],
    [
      { baseURL: 'https://a.example/v1', url: 'https://b.example/y', allowAbsoluteUrls: false },
      'https://a.example/v1/https://b.example/y',
    ],
    [
      { baseURL: 'https://a.example/v1', url: '//items', allowAbsoluteUrls: false },
      'https://a.example/v1/items',
    ],
    [{ baseURL: 'https://a.example', url: 'svc+v2.x-y://b' }, 'svc+v2.x-y://b'],
    [{ baseURL: 'https://a.example', url: 'a.b:c' }, 'https://a.example/a.b:c'],
    [{ baseURL: 'https://a.example', url: '1x://b' }, 'https://a.example/1x://b'],
  ])('%j → %s', (config, expected) => {
    expect(requestUrlOf(config)?.href).toBe(expected);
  });
});
