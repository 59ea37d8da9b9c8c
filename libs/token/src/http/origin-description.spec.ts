import { describe, expect, it } from '@jest/globals';
import { describeUnboundOrigins } from './origin-description.js';
import { checkTokenOrigin } from './origin-policy.js';

/** Held to the rule: each kind of origin the text names (or leaves out) is what the rule does. */
describe('describeUnboundOrigins', () => {
  it.each([[false], [true]])('with allowInsecureHttp %s says what checkTokenOrigin does', (insecure) => {
    const options = { allowInsecureHttp: insecure };
    const text = describeUnboundOrigins(options);
    const allowed = (url: string) => checkTokenOrigin(new URL(url), options).allowed;
    expect(allowed('https://any.example/x')).toBe(true);
    expect(text).toMatch(/any (https )?origin/);
    expect(allowed('http://127.0.0.1:8080/x')).toBe(true);
    expect(allowed('http://localhost/x')).toBe(true);
    expect(allowed('http://[::1]/x')).toBe(true);
    expect(text).toMatch(/plain.http/);
    // Plain http off loopback: said exactly when done.
    expect(allowed('http://api.example/x')).toBe(insecure);
    expect(text.startsWith('any origin, https or plain http')).toBe(insecure);
    expect(text.includes('loopback')).toBe(!insecure);
  });
});
