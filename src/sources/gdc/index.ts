// Gdc (the Python pollect's GdcSource): crashes and ANRs per app version from the Google Play
// Console's monthly exports, which Google keeps in a Cloud Storage bucket. Each probe asks the
// bucket (JSON API) whether this month's export changed, downloads it into dbDir if so, and reports
// the last day of the newest export on disk.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Source, SourceError, errorMessage, type JsonSchema, type PluginContext, type ProbeContext, type Sample, type SourceParams } from '../../sdk/index.js';
import { bodyExcerpt, httpRequest, parseJsonBody, safeUrl, type HttpResponse } from '../../sdk/http.js';
import { checkUrl, readParamFile, resolvePath, maxBytesParam } from '../../sdk/params.js';
import { decodeExport, latestDay, parseCrashExport } from './parse.js';
import { ServiceAccountAuth, parseServiceAccountKey } from './service-account.js';

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['bucketName', 'keyFile'],
  properties: {
    bucketName: {
      type: 'string',
      minLength: 1,
      description: 'The Play Console export bucket (`pubsite_prod_rev_<n>`, shown at the bottom of its bulk export page)',
    },
    apps: {
      type: 'array',
      default: [],
      description: 'The apps whose statistics are read',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['package'],
        properties: {
          package: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.]+$', description: "The app's package name" },
          name: { type: 'string', description: 'A display name (the Python pollect read it and did not use it)' },
        },
      },
    },
    keyFile: {
      type: 'string',
      minLength: 1,
      description: 'Key file (JSON, relative to the config file) of a service account that may read the bucket',
    },
    dbDir: { type: 'string', minLength: 1, default: 'db', description: 'Folder (relative to the config file) where the exports are kept' },
    storageUrl: {
      type: 'string',
      minLength: 1,
      default: 'https://storage.googleapis.com',
      description: 'Base URL of the Cloud Storage JSON API',
    },
    maxBytes: maxBytesParam(16 * 1024 * 1024, 'Largest answer or export accepted, in bytes'),
  },
} as const satisfies JsonSchema;

export type GdcConfig = SourceParams<typeof schema>;

const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_only';

export class GdcSource extends Source<GdcConfig> {
  static override description = 'Google Play crashes and ANRs per app version, from the Play Console exports in Cloud Storage';
  static override schema = schema;

  private readonly auth: ServiceAccountAuth;
  private readonly dbDir: string;
  private readonly bucketUrl: string;
  /** The `updated` time of each export downloaded since start. */
  private readonly downloaded = new Map<string, string>();

  constructor(config: GdcConfig, context?: PluginContext) {
    super(config, context);
    checkUrl('storageUrl', config.storageUrl, ['http:', 'https:']);
    const key = parseServiceAccountKey('keyFile', readParamFile(this.context, 'keyFile', config.keyFile).toString('utf8'));
    this.auth = new ServiceAccountAuth(key, SCOPE);
    this.dbDir = resolvePath(this.context, config.dbDir);
    this.bucketUrl = `${config.storageUrl.replace(/\/+$/, '')}/storage/v1/b/${encodeURIComponent(config.bucketName)}/o`;
  }

  async probe(ctx: ProbeContext): Promise<Sample[]> {
    await mkdir(this.dbDir, { recursive: true });
    const month = yyyymm(new Date());
    for (const app of this.config.apps) await this.download(`stats/crashes/${exportName(app.package, month)}`, ctx);

    const now = Date.now();
    const samples: Sample[] = [];
    let latest = 0;
    for (const app of this.config.apps) {
      const file = await this.newestExport(app.package);
      if (!file) continue;
      let rows: ReturnType<typeof latestDay>;
      try {
        rows = latestDay(parseCrashExport(decodeExport(await readFile(path.join(this.dbDir, file)))), now);
      } catch (err) {
        throw new SourceError(`${path.join(this.dbDir, file)}: ${errorMessage(err)}`);
      }
      for (const r of rows) {
        latest = Math.max(latest, r.date);
        const name = `crashes_${app.package}`;
        samples.push({ name, value: r.crashes, labels: { versionCode: String(r.versionCode), type: 'crash' } });
        samples.push({ name, value: r.anrs, labels: { versionCode: String(r.versionCode), type: 'anr' } });
      }
    }
    samples.push({ name: 'latestUpdate', value: Math.floor(latest / 1000), unit: 'seconds' });
    return samples;
  }

  /** Downloads the objects named `prefix` whose `updated` time changed since the last download. */
  private async download(prefix: string, ctx: ProbeContext): Promise<void> {
    const url = `${this.bucketUrl}?prefix=${encodeURIComponent(prefix)}`;
    const listing = parseJsonBody(await this.get(url, ctx), `GET ${safeUrl(url)}`) as { items?: unknown } | null;
    if (listing === null || typeof listing !== 'object' || (listing.items !== undefined && !Array.isArray(listing.items))) {
      throw new SourceError(`gs://${this.config.bucketName}: the object list is not a Cloud Storage listing`);
    }
    for (const item of (listing.items ?? []) as { name?: unknown; updated?: unknown }[]) {
      if (typeof item?.name !== 'string' || item.name !== prefix) continue;
      const updated = String(item.updated);
      if (this.downloaded.get(item.name) === updated) continue;
      const res = await this.get(`${this.bucketUrl}/${encodeURIComponent(item.name)}?alt=media`, ctx);
      const target = path.join(this.dbDir, path.basename(item.name));
      await writeFile(`${target}.tmp`, res.body);
      await rename(`${target}.tmp`, target);
      this.downloaded.set(item.name, updated);
      this.context.log.info(`downloaded gs://${this.config.bucketName}/${item.name} (${res.body.length} bytes)`);
    }
  }

  /** The newest export of a package in dbDir (by its month), if any. */
  private async newestExport(pkg: string): Promise<string | undefined> {
    const pattern = new RegExp(`^crashes_${pkg.replace(/\./g, '\\.')}_(\\d{6})_app_version\\.csv$`);
    const files = (await readdir(this.dbDir)).filter((f) => pattern.test(f));
    return files.sort().at(-1);
  }

  /** GETs with the service account's token; a refused token is replaced once. */
  private async get(url: string, ctx: ProbeContext): Promise<HttpResponse> {
    const where = `GET ${safeUrl(url)}`;
    const send = async () =>
      httpRequest({
        url,
        headers: { authorization: `Bearer ${await this.auth.accessToken(ctx)}` },
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
        maxBytes: this.config.maxBytes,
      });
    let res = await send();
    if (res.status === 401) {
      this.auth.forget();
      res = await send();
    }
    if (res.status < 200 || res.status >= 300) {
      const hint = res.status === 403 ? ' (may the service account read the bucket? Grant it access in the Play Console)' : '';
      throw new SourceError(`${where}: HTTP ${res.status}${hint}: ${bodyExcerpt(res.body)}`);
    }
    return res;
  }
}

function exportName(pkg: string, month: string): string {
  return `crashes_${pkg}_${month}_app_version.csv`;
}

/** The month as Google names its exports (local time, as the Python pollect's datetime.now()). */
function yyyymm(d: Date): string {
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}`;
}
