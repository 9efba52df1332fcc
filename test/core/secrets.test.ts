// The one secret policy: which key names hold secrets, for params, Exec environments and headers alike.
import { describe, expect, it } from 'vitest';
import { childEnvironment, isSecretKey, redact, registerSecret, registerSecretsIn } from '../../src/core/secrets.js';

// [key name, secret?]
const KEYS: [string, boolean][] = [
  ['password', true],
  ['Password', true],
  ['DB_PASSWORD', true],
  ['MYSQL_PASS', true],
  ['passwd', true],
  ['authPassPhrase', true],
  ['privacyPassPhrase', true],
  ['token', true],
  ['GITHUB_TOKEN', true],
  ['X-Auth-Token', true],
  ['secret', true],
  ['AWS_SECRET_ACCESS_KEY', true],
  ['AWS_ACCESS_KEY_ID', true],
  ['communityString', true],
  ['credentials', true],
  ['apikey', true],
  ['API_KEY', true],
  ['X-Api-Key', true],
  ['Authorization', true],
  ['Proxy-Authorization', true],
  ['Cookie', true],
  ['X-Session-Id', true],
  // Files, names and protocol choices are not secrets: registering them would blank them out of every log line.
  ['key', false],
  ['cert', false],
  ['ca', false],
  ['username', false],
  ['authProtocol', false],
  ['privacyProtocol', false],
  ['host', false],
  ['passive', false],
  ['PATH', false],
  ['Accept', false],
];

describe('the secret policy', () => {
  it.each(KEYS)('%s is secret: %s', (key, secret) => {
    expect(isSecretKey(key)).toBe(secret);
  });

  it("registers a config's secrets once: params, environment variables, headers, credentials and URL passwords", () => {
    registerSecretsIn({
      executors: [
        {
          sources: [
            { type: 'SnmpGet', communityString: 'c0mmunity', authProtocol: 'SHA' },
            { type: 'Exec', env: { DB_PASSWORD: 'envpass-1', HOME: '/home/pollect' } },
            { type: 'Http', url: 'http://user:url%40pass@example.org/', headers: { Authorization: 'Bearer tok-abc-123', Accept: 'text/plain' } },
          ],
        },
      ],
    });
    const line = redact('c0mmunity envpass-1 url@pass url%40pass tok-abc-123 Bearer SHA /home/pollect text/plain');
    expect(line).toBe('*** *** *** *** *** Bearer SHA /home/pollect text/plain');
  });

  it('ignores values too short to hide without blanking ordinary words', () => {
    registerSecret('ab');
    expect(redact('ab cab')).toBe('ab cab');
  });

  it('hides a secret that contains another one whole, whichever was registered first', () => {
    registerSecret('hidden');
    registerSecret('tok-hidden-4711');
    expect(redact('got tok-hidden-4711 and hidden')).toBe('got *** and ***');
  });
});

describe('what a server may echo back', () => {
  it('a password escaped inside a JSON string (Keystone echoes the request body)', () => {
    registerSecretsIn({ auth: { password: 'pa"ss\\word' } });
    const body = JSON.stringify({ auth: { identity: { password: { user: { password: 'pa"ss\\word' } } } } });
    expect(redact(`401: ${body}`)).not.toContain('ss\\\\word');
    expect(redact(`401: ${body}`)).toContain('"password":"***"');
  });

  it('a user and password sent as HTTP Basic credentials, from params or a URL', () => {
    registerSecretsIn({ username: 'admin', password: 'hunter22' });
    registerSecretsIn({ url: 'http://bob:s3cr%40t@example.invalid/x' });
    const basic = (u: string, p: string) => Buffer.from(`${u}:${p}`).toString('base64');
    expect(redact(`echo: Authorization: Basic ${basic('admin', 'hunter22')}`)).toBe('echo: Authorization: Basic ***');
    expect(redact(`echo: Authorization: Basic ${basic('bob', 's3cr@t')}`)).toBe('echo: Authorization: Basic ***');
  });
});

describe('childEnvironment', () => {
  it("gives a child a minimal part of pollect's environment, the names passed, then the config's own", () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      LC_TIME: 'C',
      OS_PASSWORD: 'hunter22',
      OS_AUTH_URL: 'http://k',
      AWS_SECRET_ACCESS_KEY: 'x',
    };
    expect(childEnvironment({ DB: 'y' }, ['OS_AUTH_URL'], env)).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      LC_TIME: 'C',
      OS_AUTH_URL: 'http://k',
      DB: 'y',
    });
  });
});
