import { beforeAll, describe, expect, it } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { pemText, privateKeyField, toPkcs8Pem, unescapePem } from '../config/private-key.pem.js';

// How a configured PEM reaches the strategies: escaped newlines (environment variables) unescaped,
// PKCS#1 and SEC1 converted to the PKCS#8 jose imports, anything else left as it is for the
// validation to refuse. Kept under strategies/ so the strategies mutation run covers the file.

let rsa: KeyObject;
let ec: KeyObject;
let rsaPkcs8: string;
let rsaPkcs1: string;
let ecSec1: string;

beforeAll(() => {
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  rsaPkcs8 = rsa.export({ type: 'pkcs8', format: 'pem' }).toString();
  rsaPkcs1 = rsa.export({ type: 'pkcs1', format: 'pem' }).toString();
  ecSec1 = ec.export({ type: 'sec1', format: 'pem' }).toString();
});

/** The PEM as one line with literal `\n` (or `\r\n`) between its lines, as an env variable carries it. */
const escaped = (pem: string, newline = '\\n') => pem.replace(/\n/g, newline);
const sameKey = (pem: string, key: KeyObject) => createPrivateKey({ key: pem, format: 'pem' }).equals(key);

describe('unescapePem', () => {
  it('turns literal \\n, \\r\\n and \\r in a PEM into newlines', () => {
    expect(unescapePem(escaped(rsaPkcs8))).toBe(rsaPkcs8);
    expect(unescapePem(escaped(rsaPkcs8, '\\r\\n'))).toBe(rsaPkcs8);
    expect(unescapePem(escaped(rsaPkcs8, '\\r'))).toBe(rsaPkcs8);
    expect(
      unescapePem('-----BEGIN CERTIFICATE-----\\nAAAA\\r\\nBBBB\\rCCCC\\n-----END CERTIFICATE-----'),
    ).toBe('-----BEGIN CERTIFICATE-----\nAAAA\nBBBB\nCCCC\n-----END CERTIFICATE-----');
  });

  it('leaves a PEM with real newlines as it is', () => {
    expect(unescapePem(rsaPkcs8)).toBe(rsaPkcs8);
    const crlf = rsaPkcs8.replace(/\n/g, '\r\n');
    expect(unescapePem(crlf)).toBe(crlf);
  });

  it('leaves a value that is not a PEM as it is, backslashes included', () => {
    expect(unescapePem('C:\\new\\reports')).toBe('C:\\new\\reports');
    expect(unescapePem('line\\nline')).toBe('line\\nline');
    expect(unescapePem('')).toBe('');
  });
});

describe('toPkcs8Pem', () => {
  it('passes a PKCS#8 PEM through untouched, whatever its line endings', () => {
    expect(toPkcs8Pem(rsaPkcs8)).toBe(rsaPkcs8);
    const crlf = rsaPkcs8.replace(/\n/g, '\r\n');
    expect(toPkcs8Pem(crlf)).toBe(crlf);
  });

  it('converts a PKCS#1 RSA PEM and a SEC1 EC PEM to PKCS#8 of the same key', () => {
    const fromPkcs1 = toPkcs8Pem(rsaPkcs1);
    const fromSec1 = toPkcs8Pem(ecSec1);
    expect(fromPkcs1).toBe(rsaPkcs8);
    expect(fromSec1.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(sameKey(fromSec1, ec)).toBe(true);
  });

  it('unescapes before converting', () => {
    expect(toPkcs8Pem(escaped(rsaPkcs1))).toBe(rsaPkcs8);
    expect(toPkcs8Pem(escaped(rsaPkcs8))).toBe(rsaPkcs8);
  });

  it('leaves a PKCS#1 or SEC1 PEM it cannot read as it is (unescaped), for the validation to refuse', () => {
    const damaged = `-----BEGIN RSA PRIVATE KEY-----\n${'QUJD'.repeat(16)}\n-----END RSA PRIVATE KEY-----\n`;
    expect(toPkcs8Pem(damaged)).toBe(damaged);
    expect(toPkcs8Pem(escaped(damaged))).toBe(damaged);
    const cut = `${ecSec1.slice(0, 60)}\n-----END EC PRIVATE KEY-----\n`;
    expect(toPkcs8Pem(cut)).toBe(cut);
  });

  it('leaves any other text as it is', () => {
    expect(toPkcs8Pem('not a key')).toBe('not a key');
  });
});

describe('privateKeyField and pemText', () => {
  it('privateKeyField normalises a PEM to PKCS#8 and keeps a JWK object', () => {
    expect(privateKeyField().parse(escaped(rsaPkcs1))).toBe(rsaPkcs8);
    const jwk = { kty: 'EC', crv: 'P-256', d: 'x' };
    expect(privateKeyField().parse(jwk)).toEqual(jwk);
  });

  it('privateKeyField refuses anything else with its message', () => {
    const result = privateKeyField('custom message').safeParse(42);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual(['custom message']);
    expect(privateKeyField().safeParse(42).error?.issues[0]?.message).toBe(
      'must be a PEM string or a JWK object',
    );
  });

  it('pemText unescapes a PEM and converts nothing', () => {
    expect(pemText().parse(escaped(rsaPkcs1))).toBe(rsaPkcs1);
  });
});
