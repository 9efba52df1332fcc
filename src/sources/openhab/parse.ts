// openHAB's item list (`GET /rest/items`): every item with a label whose state is a number
// (Number, Number:<Dimension>, a state such as "21.5 °C") or a Switch (ON/OFF) becomes a sample
// named after its label, as in the Python pollect.
import type { Sample } from '../../sdk/index.js';
import { isRecord } from '../../sdk/json.js';

/** A decimal number at the start of a state, before an optional unit: "21.5 °C", "-3", "1e3 W". */
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function parseOpenhabItems(items: unknown): Sample[] {
  if (!Array.isArray(items)) throw new Error('not an openHAB item list (not a JSON array)');
  const out: Sample[] = [];
  for (const item of items) {
    if (!isRecord(item) || typeof item.label !== 'string' || typeof item.name !== 'string' || typeof item.type !== 'string') continue;
    if (typeof item.state !== 'string') continue;
    // The label is the metric name: anything but letters, digits, _ and : becomes _ (as in Python).
    const name = item.label.replace(/[^a-zA-Z0-9_:]+/g, '_');
    const groups = Array.isArray(item.groupNames) ? item.groupNames.filter((g): g is string => typeof g === 'string').join(',') : '';
    const labels = { name: item.name, group: groups };
    let value: number | undefined;
    if (item.type.startsWith('Number')) {
      // A state with a unit ("21.5 °C"): the number before the space. NULL and UNDEF are no number.
      const head = item.state.split(' ')[0]!;
      if (NUMBER.test(head)) value = Number(head);
    } else if (item.type === 'Switch' && (item.state === 'ON' || item.state === 'OFF')) {
      value = item.state === 'ON' ? 1 : 0;
    }
    if (value !== undefined && Number.isFinite(value)) out.push({ name, value, labels });
  }
  return out;
}
