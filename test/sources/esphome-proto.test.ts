// The EspHome source's cut of ESPHome's api.proto (src/sources/esphome/api.ts), which both the
// source and the test's device emulator (test/helpers/esphome-device.ts) encode with, checked against
// the published file itself (test/fixtures/esphome/proto: aioesphomeapi's api.proto and
// api_options.proto @368a145f, unchanged): every message id, field number and wire type is the
// official one, so a slip in the copy cannot pass the emulator tests by being on both sides.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import protobuf from 'protobufjs';
import { MSG, apiTypes } from '../../src/sources/esphome/api.js';

const DIR = path.resolve(__dirname, '../fixtures/esphome/proto');
const PROTOBUFJS = path.dirname(require.resolve('protobufjs/package.json'));

function official(): protobuf.Root {
  const root = new protobuf.Root();
  // api.proto imports api_options.proto, which imports google/protobuf/descriptor.proto (shipped with protobufjs).
  root.resolvePath = (_origin, target) =>
    target.includes('google/protobuf/') ? path.join(PROTOBUFJS, target.slice(target.indexOf('google/protobuf/'))) : path.join(DIR, path.basename(target));
  root.loadSync(path.join(DIR, 'api.proto'), { keepCase: true });
  root.resolveAll();
  return root;
}

/** What a field looks like on the wire: an enum travels as an int32 varint. */
function wireType(field: protobuf.Field): string {
  return field.resolvedType instanceof protobuf.Enum ? 'int32' : field.type;
}

describe("the EspHome source's messages", () => {
  const root = official();

  it('have the ids of the official api.proto (its `option (id)`)', () => {
    const ids = Object.fromEntries(Object.keys(MSG).map((name) => [name, root.lookupType(name).options?.['(id)']]));
    expect(ids).toEqual(MSG);
  });

  it('have only fields of the official messages, with their numbers, wire types and rules', async () => {
    const ours = await apiTypes();
    let fields = 0;
    for (const name of Object.keys(MSG) as (keyof typeof MSG)[]) {
      const theirs = root.lookupType(name);
      for (const f of ours[name].fieldsArray) {
        const o = theirs.fields[f.name];
        expect(o, `${name}.${f.name} is in the official ${name}`).toBeDefined();
        expect([f.id, f.type, f.rule ?? 'optional'], `${name}.${f.name}`).toEqual([o!.id, wireType(o!), o!.rule ?? 'optional']);
        fields++;
      }
    }
    expect(fields).toBeGreaterThanOrEqual(20);
  });

  it('decode what the official types encode (a sensor and its state)', async () => {
    const ours = await apiTypes();
    const info = {
      object_id: 'living_room_temperature',
      key: 0xdeadbeef,
      name: 'Living Room Temperature',
      unit_of_measurement: '°C',
      accuracy_decimals: 1,
      device_class: 'temperature',
      state_class: 1,
    };
    const Info = root.lookupType('ListEntitiesSensorResponse');
    const State = root.lookupType('SensorStateResponse');
    const infoBytes = Info.encode(Info.fromObject(info)).finish();
    const stateBytes = State.encode(State.fromObject({ key: 0xdeadbeef, state: 21.5, missing_state: false })).finish();
    expect(ours.ListEntitiesSensorResponse.toObject(ours.ListEntitiesSensorResponse.decode(infoBytes))).toMatchObject(info);
    expect(ours.SensorStateResponse.toObject(ours.SensorStateResponse.decode(stateBytes))).toMatchObject({ key: 0xdeadbeef, state: 21.5 });
  });
});
