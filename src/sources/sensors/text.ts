// Parses the text output of `sensors` (what the Python pollect reads; lm-sensors before 3.5 has no
// `-j`): a chip name line, `Adapter: ...`, then `label:  value unit  (limits)` per feature.
// Continuation lines (indented), N/A values and ALARM/enabled lines carry no reading.

export interface TextReading {
  device: string;
  name: string;
  value: number;
  /** The unit as printed: `V`, `mV`, `RPM`, `°C`, `W`, `mW`, `A`, `J`, `%RH` ... */
  unit: string;
}

const FEATURE = /^(.+?):\s+\+?(-?[0-9.]+)\s*(\S*)/;

export function parseSensorsText(text: string): TextReading[] {
  const out: TextReading[] = [];
  let device: string | undefined;
  for (const raw of text.split('\n')) {
    if (/^\s/.test(raw) && raw.trim() !== '') continue;
    const line = raw.trim();
    if (line === '') {
      device = undefined;
      continue;
    }
    if (!line.includes(':')) {
      device = line;
      continue;
    }
    if (device === undefined || line.startsWith('Adapter:')) continue;
    const m = FEATURE.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    if (!Number.isFinite(value)) continue;
    // Without a UTF-8 locale lm-sensors prints ` C` for degrees.
    const unit = m[3] === 'C' || m[3] === '' ? '°C' : m[3]!;
    out.push({ device, name: m[1]!.trim(), value, unit });
  }
  return out;
}
