import { describe, expect, it } from 'vitest';
import { substituteEnv } from '../../src/config/env.js';

const env = { HOME: '/home/u', EMPTY: '', PORT: '9001', NAME: 'db' };

function sub(value: unknown) {
  const problems: string[] = [];
  return { out: substituteEnv(value, env, problems), problems };
}

describe('${VAR} substitution', () => {
  it('replaces variables in every string, in arrays and nested objects', () => {
    const { out, problems } = sub({ a: '${HOME}/x', list: ['${PORT}', { deep: 'p=${PORT};n=${NAME}' }], n: 3, t: true, z: null });
    expect(problems).toEqual([]);
    expect(out).toEqual({ a: '/home/u/x', list: ['9001', { deep: 'p=9001;n=db' }], n: 3, t: true, z: null });
  });

  it('supports defaults with :-, also for empty values', () => {
    expect(sub('${MISSING:-fallback}').out).toBe('fallback');
    expect(sub('${EMPTY:-fallback}').out).toBe('fallback');
    expect(sub('${PORT:-1}').out).toBe('9001');
    expect(sub('${MISSING:-${PORT}}').out).toBe('9001');
  });

  it('$${ is a literal ${', () => {
    expect(sub('cost $${PORT} and ${PORT}').out).toBe('cost ${PORT} and 9001');
  });

  it('a missing variable without default is an error naming the path', () => {
    const { problems } = sub({ executors: [{ sources: [{ url: 'http://${NOPE}/x' }] }] });
    expect(problems).toEqual([
      'executors[0].sources[0].url: environment variable NOPE is not set (write ${NOPE:-default} for a default, $${NOPE} for a literal ${NOPE})',
    ]);
  });

  it('${VAR:?message} fails with the message when unset or empty', () => {
    expect(sub({ password: '${PW:?set PW to the OpenStack password}' }).problems).toEqual(['password: PW: set PW to the OpenStack password']);
    expect(sub({ p: '${EMPTY:?needed}' }).problems).toEqual(['p: EMPTY: needed']);
    expect(sub({ p: '${NAME:?needed}' })).toEqual({ out: { p: 'db' }, problems: [] });
  });

  it('allows - and digits in names, as the Python pollect does: ${MY-VAR} is the variable MY-VAR', () => {
    const e = { 'MY-VAR': 'dash', '1X': 'digit', MY: 'not this' };
    expect(substituteEnv('${MY-VAR}/${1X}', e, [])).toBe('dash/digit');
    const problems: string[] = [];
    substituteEnv({ p: '${NO-SUCH}' }, e, problems);
    expect(problems).toEqual(['p: environment variable NO-SUCH is not set (write ${NO-SUCH:-default} for a default, $${NO-SUCH} for a literal ${NO-SUCH})']);
  });

  it("leaves ${<range label>} for SnmpGet's range where no such variable is set, in the metric's strings only", () => {
    const metric = { name: 'up', oid: 'iso.3.6.1.2.1.2.2.1.5.${if}', oidLabels: { n: '1.3.6.1.2.1.31.1.1.1.1.${if}' }, range: { from: 1, to: 2, label: 'if' } };
    const { out, problems } = sub({ metrics: [metric], other: '${if}' });
    expect(out).toEqual({ metrics: [metric], other: '' });
    expect(problems).toEqual(['other: environment variable if is not set (write ${if:-default} for a default, $${if} for a literal ${if})']);
    // A variable of that name, when set, wins (as in the Python pollect); $${if} stays a literal.
    expect(substituteEnv({ ...metric, oid: '1.3.${if}', name: '$${if}' }, { if: '7' }, [])).toMatchObject({ oid: '1.3.7', name: '${if}' });
  });

  it('leaves lone dollars and non-variable braces alone', () => {
    expect(sub('price $5 {x} $HOME').out).toBe('price $5 {x} $HOME');
  });
});
