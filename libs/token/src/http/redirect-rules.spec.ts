import { describe, expect, it } from '@jest/globals';
import {
  BODY_HEADER,
  nextHopMethod,
  nextHopUrl,
  ORIGIN_BOUND_HEADERS,
  REDIRECT_STATUSES,
} from './redirect-rules.js';

describe('redirect rules', () => {
  it.each([
    [300, false],
    [301, true],
    [302, true],
    [303, true],
    [304, false],
    [305, false],
    [306, false],
    [307, true],
    [308, true],
    [200, false],
  ])('status %i is followed: %s', (status, followed) => {
    expect(REDIRECT_STATUSES.has(status)).toBe(followed);
  });

  it.each([
    // [status, method, next method, keeps the body]
    [301, 'POST', 'GET', false],
    [302, 'POST', 'GET', false],
    [302, 'post', 'GET', false],
    [301, 'PUT', 'PUT', true],
    [302, 'DELETE', 'DELETE', true],
    [301, 'GET', 'GET', true],
    [303, 'POST', 'GET', false],
    [303, 'PUT', 'GET', false],
    [303, 'patch', 'GET', false],
    [303, 'GET', 'GET', true],
    [303, 'HEAD', 'HEAD', true],
    [303, 'head', 'HEAD', true],
    [307, 'POST', 'POST', true],
    [308, 'POST', 'POST', true],
    [308, 'put', 'PUT', true],
  ])('%i after %s → %s, body kept: %s', (status, method, next, keepsBody) => {
    expect(nextHopMethod(status, method)).toEqual({ method: next, keepsBody });
  });

  it.each([
    ['/next', 'https://a.example/next'],
    ['next', 'https://a.example/dir/next'],
    ['https://b.example/x?y=1', 'https://b.example/x?y=1'],
    ['//c.example/z', 'https://c.example/z'],
  ])('Location %s from https://a.example/dir/page → %s', (location, expected) => {
    expect(nextHopUrl(location, new URL('https://a.example/dir/page'))?.href).toBe(expected);
  });

  it('a Location that is not a URL ends the chain', () => {
    expect(nextHopUrl('http://[not-a-host', new URL('https://a.example/'))).toBeUndefined();
  });

  it.each([
    ['content-type', true],
    ['Content-Length', true],
    ['content-encoding', true],
    ['x-content-type', false],
    ['accept', false],
  ])('%s describes the body: %s', (header, matches) => {
    expect(BODY_HEADER.test(header)).toBe(matches);
  });

  it('drops cookies, proxy credentials and Host when the origin changes', () => {
    expect([...ORIGIN_BOUND_HEADERS].sort()).toEqual(['cookie', 'host', 'proxy-authorization']);
  });
});
