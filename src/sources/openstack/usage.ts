// Nova os-simple-tenant-usage answers -> samples. Pure, so it is tested on the captured documents.
// From microversion 2.40 the answers are paged by instance: a tenant may appear on several pages,
// each page's totals covering only that page's instances, so totals are summed across pages.
import { SourceError, type Sample } from '../../sdk/index.js';
import { finite } from '../../sdk/json.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const TOTALS = ['total_local_gb_usage', 'total_vcpus_usage', 'total_memory_mb_usage', 'total_hours'] as const;
export const SERVER_FIGURES = ['hours', 'vcpus', 'memory_mb', 'local_gb', 'uptime'] as const;
type Total = (typeof TOTALS)[number];
type Figure = (typeof SERVER_FIGURES)[number];

// Nova's MB and GB are binary: flavors are sized in MiB of RAM and GiB of disk.
const UNITS: Record<Total | Figure, string> = {
  total_local_gb_usage: 'GiB_hours',
  total_vcpus_usage: 'vcpu_hours',
  total_memory_mb_usage: 'MiB_hours',
  total_hours: 'hours',
  hours: 'hours',
  vcpus: 'vcpus',
  memory_mb: 'MiB',
  local_gb: 'GiB',
  uptime: 'seconds',
};

interface Server {
  labels: Record<string, string>;
  figures: Partial<Record<Figure, number>>;
}

interface Tenant {
  totals: Record<Total, number>;
  servers: Map<string, Server>;
}

export interface UsagePage {
  /** The tenant_usage objects of this page (empty objects dropped). */
  usages: Obj[];
  /** The `marker` of the page's "next" link, if any. */
  nextMarker?: string;
}

/**
 * Reads one page: `{"tenant_usage": {...}, "tenant_usage_links": [...]}` for one tenant or
 * `{"tenant_usages": [...], "tenant_usages_links": [...]}` for the list.
 */
export function parsePage(doc: unknown, kind: 'show' | 'list'): UsagePage {
  const key = kind === 'show' ? 'tenant_usage' : 'tenant_usages';
  if (!isObj(doc) || !(key in doc)) {
    const got = isObj(doc) ? `keys ${Object.keys(doc).slice(0, 5).join(', ') || 'none'}` : Array.isArray(doc) ? 'a list' : typeof doc;
    throw new SourceError(`not an os-simple-tenant-usage answer: no "${key}" (got ${got})`);
  }
  const raw = doc[key];
  let usages: Obj[];
  if (kind === 'show') {
    if (!isObj(raw)) throw new SourceError('"tenant_usage" is not an object');
    // The page after the last instance is an empty object.
    usages = Object.keys(raw).length === 0 ? [] : [raw];
  } else {
    if (!Array.isArray(raw)) throw new SourceError('"tenant_usages" is not a list');
    usages = raw.filter(isObj);
  }
  const links = doc[`${key}_links`];
  let nextMarker: string | undefined;
  if (Array.isArray(links)) {
    const next = links.find((l) => isObj(l) && l.rel === 'next' && typeof l.href === 'string') as Obj | undefined;
    if (next) {
      // Only the marker is taken: the href's host may be an internal name behind a proxy.
      try {
        nextMarker = new URL(next.href as string).searchParams.get('marker') ?? undefined;
      } catch {
        nextMarker = undefined;
      }
      if (!nextMarker) throw new SourceError(`a "next" link without a marker: ${String(next.href).slice(0, 200)}`);
    }
  }
  return { usages, nextMarker };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

/** Gathers tenant_usage objects (from any number of pages) and turns them into samples. */
export class UsageCollector {
  private tenants = new Map<string, Tenant>();

  /** Makes sure a tenant is reported even without usage in the window (its totals are then 0). */
  ensure(tenantId: string): void {
    this.tenant(tenantId);
  }

  add(usage: Obj): void {
    const tenantId = str(usage.tenant_id);
    if (!tenantId) throw new SourceError('a tenant_usage without tenant_id');
    const t = this.tenant(tenantId);
    for (const k of TOTALS) t.totals[k] += finite(usage[k]) ?? 0;
    const servers = usage.server_usages;
    if (servers === undefined || servers === null) return;
    if (!Array.isArray(servers)) throw new SourceError(`"server_usages" of tenant ${tenantId} is not a list`);
    for (const s of servers) {
      if (!isObj(s)) continue;
      const id = str(s.instance_id);
      if (!id) continue;
      const figures: Server['figures'] = {};
      for (const f of SERVER_FIGURES) {
        const v = finite(s[f]);
        if (v !== undefined) figures[f] = v;
      }
      t.servers.set(id, {
        labels: { tenant: tenantId, server: id, name: str(s.name), flavor: str(s.flavor), state: str(s.state) },
        figures,
      });
    }
  }

  samples(): Sample[] {
    const out: Sample[] = [];
    for (const [tenant, t] of this.tenants) {
      for (const k of TOTALS) out.push({ name: k, value: t.totals[k], labels: { tenant }, unit: UNITS[k] });
      for (const s of t.servers.values()) {
        for (const f of SERVER_FIGURES) {
          const v = s.figures[f];
          if (v !== undefined) out.push({ name: f, value: v, labels: s.labels, unit: UNITS[f] });
        }
      }
    }
    return out;
  }

  private tenant(id: string): Tenant {
    let t = this.tenants.get(id);
    if (!t) {
      t = { totals: { total_local_gb_usage: 0, total_vcpus_usage: 0, total_memory_mb_usage: 0, total_hours: 0 }, servers: new Map() };
      this.tenants.set(id, t);
    }
    return t;
  }
}

/** Nova's time format: naive UTC, no zone suffix (it rejects "Z"). */
export function novaTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
