// AppStoreConnect (the Python pollect's AppStoreConnectSource): units sold per SKU from App Store
// Connect's daily sales report. Each probe asks for yesterday's report (gzip TSV) with a JWT
// signed by the API key (ES256), keeps it in dbDir and reads it from there afterwards.
import { createPrivateKey } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  ParamError,
  Source,
  SourceError,
  errorMessage,
  registerSecret,
  type JsonSchema,
  type PluginContext,
  type ProbeContext,
  type Sample,
  type SourceParams,
} from '../../sdk/index.js';
import { bodyExcerpt, httpRequest, safeUrl } from '../../sdk/http.js';
import { checkUrl, readParamFile, resolvePath, maxBytesParam } from '../../sdk/params.js';
import { unitsPerSku } from './parse.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['keyId', 'keyFile', 'issuerId', 'vendorNumber'],
  properties: {
    keyId: { type: 'string', minLength: 1, description: 'Key ID of the App Store Connect API key' },
    keyFile: { type: 'string', minLength: 1, description: 'The API key (`AuthKey_<keyId>.p8`, relative to the config file)' },
    issuerId: { type: 'string', minLength: 1, description: 'Issuer ID shown above the API keys in App Store Connect' },
    vendorNumber: { type: 'string', minLength: 1, pattern: '^[0-9A-Za-z]+$', description: 'Vendor number (Payments and Financial Reports)' },
    dbDir: { type: 'string', minLength: 1, default: 'db', description: 'Folder (relative to the config file) where the latest report is kept' },
    apiUrl: {
      type: 'string',
      minLength: 1,
      default: 'https://api.appstoreconnect.apple.com',
      description: 'Base URL of the App Store Connect API',
    },
    ca: { type: 'string', minLength: 1, description: "CA certificate file to verify apiUrl's server with, instead of the system ones" },
    maxBytes: maxBytesParam(32 * 1024 * 1024, 'Largest report accepted (unpacked), in bytes'),
  },
} as const satisfies JsonSchema;

export type AppStoreConnectConfig = SourceParams<typeof schema>;

/** Apple's detail for a daily report that is not made yet (the Python pollect reported nothing then). */
const NOT_YET = /is not available yet/i;
/** Apple's detail for a day without a sale: a report with no rows. */
const NO_SALES = /no sales for the date/i;
const EMPTY_REPORT = 'SKU\tProduct Type Identifier\tUnits\tDeveloper Proceeds\n';

export class AppStoreConnectSource extends Source<AppStoreConnectConfig> {
  static override description = 'App Store units per SKU from the App Store Connect daily sales report';
  static override schema = schema;

  private readonly key: string;
  private readonly ca: Buffer | undefined;
  private readonly dbDir: string;
  private readonly apiUrl: string;

  constructor(config: AppStoreConnectConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('apiUrl', config.apiUrl, ['http:', 'https:']);
    this.key = readParamFile(this.context, 'keyFile', config.keyFile).toString('utf8');
    registerSecret(this.key.trim());
    checkP256Key('keyFile', this.key);
    this.ca = config.ca === undefined ? undefined : readParamFile(this.context, 'ca', config.ca);
    this.dbDir = resolvePath(this.context, config.dbDir);
    this.apiUrl = config.apiUrl.replace(/\/+$/, '');
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    // The latest report is yesterday's (the Python pollect's report date, time of day included).
    const reportDate = new Date(Date.now() - 86_400_000);
    const day = isoDay(reportDate);
    const file = path.join(this.dbDir, `report_${this.config.vendorNumber}_${day}.tsv`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      const downloaded = await this.download(day, ctx);
      if (downloaded === undefined) return [];
      text = downloaded;
      await this.keep(file, text);
    }
    let units: Map<string, number>;
    try {
      units = unitsPerSku(text);
    } catch (err) {
      throw new SourceError(`${file}: ${errorMessage(err)}`);
    }
    const samples: Sample[] = [...units].map(([sku, value]) => ({ name: 'units', value, labels: { sku } }));
    samples.push({ name: 'latestUpdate', value: Math.floor(reportDate.getTime() / 1000), unit: 'seconds' });
    return samples;
  }

  /** The day's report as text; undefined while Apple has not made it yet. */
  private async download(day: string, ctx: ProbeContext): Promise<string | undefined> {
    const query = new URLSearchParams({
      'filter[frequency]': 'DAILY',
      'filter[reportDate]': day,
      'filter[reportSubType]': 'SUMMARY',
      'filter[reportType]': 'SALES',
      'filter[vendorNumber]': this.config.vendorNumber,
      'filter[version]': '1_0',
    });
    const url = `${this.apiUrl}/v1/salesReports?${query}`;
    const where = `GET ${safeUrl(url)}`;
    const res = await httpRequest({
      url,
      headers: { authorization: `Bearer ${await this.token()}`, accept: 'application/a-gzip, application/json' },
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
      maxBytes: this.config.maxBytes,
      tls: this.ca ? { ca: this.ca } : undefined,
    });
    if (res.status < 200 || res.status >= 300) {
      const detail = apiErrorDetail(res.body);
      if (res.status === 404 && NOT_YET.test(detail)) return undefined;
      if (res.status === 404 && NO_SALES.test(detail)) return EMPTY_REPORT;
      throw new SourceError(`${where}: HTTP ${res.status}: ${detail}`);
    }
    // A gzip body unless a proxy unpacked it already; bounded, as a small gzip can unpack to gigabytes.
    if (res.body[0] !== 0x1f || res.body[1] !== 0x8b) return res.body.toString('utf8');
    try {
      return gunzipSync(res.body, { maxOutputLength: this.config.maxBytes }).toString('utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ERR_BUFFER_TOO_LARGE' ? `larger than ${this.config.maxBytes} bytes unpacked` : `not a valid gzip (${e.message})`;
      throw new SourceError(`${where}: the report is ${why}`);
    }
  }

  /** Keeps the report as the only one of this vendor in dbDir. */
  private async keep(file: string, text: string): Promise<void> {
    try {
      await mkdir(this.dbDir, { recursive: true });
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
      const prefix = `report_${this.config.vendorNumber}_`;
      for (const f of await readdir(this.dbDir)) {
        if (f.startsWith(prefix) && f.endsWith('.tsv') && path.join(this.dbDir, f) !== file) await unlink(path.join(this.dbDir, f));
      }
    } catch (err) {
      throw new SourceError(`cannot keep the report in ${this.dbDir}: ${errorMessage(err)}`);
    }
  }

  /** A JWT for the API (ES256, at most 20 minutes, as Apple requires). */
  private async token(): Promise<string> {
    // Loaded on first use: only configs with an App Store Connect source pay for it.
    const { SignJWT, importPKCS8 } = await import('jose');
    const iat = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.config.keyId, typ: 'JWT' })
      .setIssuer(this.config.issuerId)
      .setAudience('appstoreconnect-v1')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 1200)
      .sign(await importPKCS8(this.key, 'ES256'));
    registerSecret(jwt);
    return jwt;
  }
}

/** An App Store Connect API key is an EC P-256 private key in PKCS#8 PEM. */
function checkP256Key(param: string, pem: string): void {
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new ParamError(param, 'not a private key (PEM): use the .p8 file App Store Connect gave for the key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ParamError(param, 'not an App Store Connect API key (an EC P-256 private key)');
  }
}

/** The `detail` (or `title`) of App Store Connect's JSON error, else an excerpt of the body. */
function apiErrorDetail(body: Buffer): string {
  try {
    const e = (JSON.parse(body.toString('utf8')) as { errors?: { detail?: unknown; title?: unknown }[] }).errors?.[0];
    const text = typeof e?.detail === 'string' ? e.detail : typeof e?.title === 'string' ? e.title : undefined;
    if (text) return bodyExcerpt(Buffer.from(text), 300);
  } catch {
    // not JSON
  }
  return bodyExcerpt(body);
}

function isoDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
