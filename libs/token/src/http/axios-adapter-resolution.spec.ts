import { describe, expect, it } from '@jest/globals';
import axios, { type AxiosAdapter } from 'axios';
import { axiosFetchAdapter, resolveAdapter } from './axios-adapter-resolution.js';

describe('axios adapter resolution', () => {
  it.each<[string, Parameters<typeof resolveAdapter>[0], AxiosAdapter]>([
    ['a function', async () => ({}) as never, undefined as never],
    ['a name', 'http', axios.getAdapter('http')],
    ['a list of names', ['fetch', 'http'], axios.getAdapter(['fetch', 'http'])],
    ['nothing: the defaults', undefined, axios.getAdapter(axios.defaults.adapter)],
  ])('%s', (_case, spec, expected) => {
    const adapter = resolveAdapter(spec);
    expect(adapter).toBe(typeof spec === 'function' ? spec : expected);
    expect(typeof adapter).toBe('function');
  });

  it("axios' fetch adapter, looked up once", () => {
    const adapter = axiosFetchAdapter();
    expect(adapter).toBe(axios.getAdapter('fetch'));
    expect(adapter).not.toBe(axios.getAdapter('http'));
    expect(axiosFetchAdapter()).toBe(adapter);
  });
});
