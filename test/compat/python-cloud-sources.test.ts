// The Python pollect's configs for Gdc and AppStoreConnect load unchanged with `pollect --check`
// (davidgiga1993/pollect @cf5fa70: README snippets 03 and 04 and the two sources of its
// pollect.json, verbatim copies in ../shared/fixtures/pollect/), with the key files they name
// beside the config, as a real setup has them. Viessmann: the Python README lists only `user` and
// `password` (a login Viessmann ended); its code reads `client_id` and `callback_url`.
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseConfigText } from '../../src/config/parse.js';
import { cli } from '../helpers/cli.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/net.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

// The files the configs name, relative to the config: a service-account key and an API key.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
writeFileSync(
  path.join(tmp.dir, 'api-project-1234.json'),
  JSON.stringify({
    type: 'service_account',
    client_email: 'pollect@api-project-1234.iam.gserviceaccount.com',
    private_key: rsa,
    token_uri: 'https://oauth2.googleapis.com/token',
  }),
);
writeFileSync(path.join(tmp.dir, 'my_api_key.p8'), generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));

let n = 0;
async function check(sources: unknown[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const file = path.join(tmp.dir, `c${n++}.json`);
  writeFileSync(file, JSON.stringify({ writer: { type: 'DryRun' }, executors: [{ tickTime: 10, sources }] }, null, 2));
  return cli(['-c', file, '--check']);
}

const snippet = async (name: string): Promise<object> =>
  (await parseConfigText(readFileSync(fixtureDir('pollect', 'readme-snippets', name), 'utf8'), name)) as object;

describe("the Python pollect's configs of the cloud sources", () => {
  it('README snippets 03 (Gdc, JSON with comments) and 04 (AppStoreConnect) load unchanged', async () => {
    const r = await check([await snippet('03-google-play-developer-console-gdc.jsonc'), await snippet('04-apple-appstore-connect-appstoreconnect.json')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK \(1 executor\(s\), 2 source\(s\)\)/);
  });

  it("pollect.json's Gdc and AppStoreConnect sources load unchanged", async () => {
    const raw = JSON.parse(readFileSync(fixtureDir('pollect', 'pollect.json'), 'utf8')) as { executors: { sources: { type: string }[] }[] };
    const sources = raw.executors.flatMap((e) => e.sources).filter((s) => s.type === 'Gdc' || s.type === 'AppStoreConnect');
    expect(sources.map((s) => s.type)).toEqual(['Gdc', 'AppStoreConnect']);
    const r = await check(sources);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('without their key files, or with a Viessmann config as the Python README lists it, fail at the config path', async () => {
    const keys = await check([
      { ...(await snippet('03-google-play-developer-console-gdc.jsonc')), keyFile: 'missing.json' },
      { ...(await snippet('04-apple-appstore-connect-appstoreconnect.json')), keyFile: 'api-project-1234.json' },
      { type: 'Viessmann', client_id: '0123456789abcdef', callback_url: 'http://localhost:4200/' },
    ]);
    expect(keys.code).toBe(2);
    expect(keys.stderr.trim().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}executors\[0\]\.sources\[0\]\.keyFile: cannot read .*missing\.json: no such file$/),
      expect.stringMatching(/^ {2}executors\[0\]\.sources\[1\]\.keyFile: not a private key \(PEM\)/),
    ]);
    const viessmann = await check([{ type: 'Viessmann', user: 'me@example.com', password: 'secret' }]);
    expect(viessmann.code).toBe(2);
    expect(viessmann.stderr.trim().split('\n').slice(1)).toEqual(['  executors[0].sources[0].client_id: is required']);
  });
});
