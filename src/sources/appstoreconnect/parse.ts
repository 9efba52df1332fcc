// App Store Connect's daily Summary Sales Report (`/v1/salesReports`, SALES/SUMMARY, version 1_0):
// tab-separated, a header line, one row per SKU, product type, country and price.

/** Downloads of an app (free or paid) and in-app purchases: the rows the Python pollect counted. */
const COUNTED = new Set(['1F', 'IA1']);

/**
 * Units per SKU in the report's order: the units of rows whose product type is a download or an
 * in-app purchase (not updates or re-downloads); every SKU is listed, with 0 if it has none.
 */
export function unitsPerSku(text: string): Map<string, number> {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const header = (lines[0] ?? '').split('\t');
  const column = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`not a sales report: no column "${name}" in its first line`);
    return i;
  };
  const sku = column('SKU');
  const type = column('Product Type Identifier');
  const units = column('Units');
  column('Developer Proceeds');

  const out = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const row = lines[i]!.split('\t');
    const n = row[units]?.trim() ?? '';
    if (row[sku] === undefined || !/^-?\d+$/.test(n)) throw new Error(`line ${i + 1} has no SKU and whole number of units`);
    const before = out.get(row[sku]) ?? 0;
    out.set(row[sku], COUNTED.has(row[type]?.trim() ?? '') ? before + Number(n) : before);
  }
  return out;
}
