// The examples in the READMEs of the notification writers are configs their schemas take.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writerRegistry } from '../../src/writers/registry.js';
import { writerParamsSchema } from '../../src/config/schema.js';
import { validate } from '../helpers/validate.js';

const WRITERS: Record<string, string> = { Alertmanager: 'alertmanager', Webhook: 'webhook', NotificationExec: 'notification-exec' };

describe('notification writer READMEs', () => {
  for (const [type, folder] of Object.entries(WRITERS)) {
    it(`${type}: every example writer config is valid`, async () => {
      const text = readFileSync(path.resolve(__dirname, '../../src/writers', folder, 'README.md'), 'utf8');
      const configs = [...text.matchAll(/```json\n([\s\S]*?)```/g)]
        .map((m) => JSON.parse(m[1]!) as { writers?: { type: string }[] })
        .flatMap((doc) => doc.writers ?? [])
        .filter((w) => w.type === type);
      expect(configs.length).toBeGreaterThan(0);
      const cls = await writerRegistry[type]!();
      for (const c of configs) expect(validate(writerParamsSchema(cls.schema, type), structuredClone(c), ['writer'])).toEqual([]);
    });
  }
});
