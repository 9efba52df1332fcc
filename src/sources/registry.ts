// Every built-in source, by type name. A source is a room of its own (src/sources/<room>/) and
// is imported only when a config names it, so heavy dependencies load only when needed.
// Adding a source: one room and one line here.
import type { AnySourceClass } from './source.js';

export const sourceRegistry: Record<string, () => Promise<AnySourceClass>> = {
  Dummy: () => import('./dummy/index.js').then((m) => m.DummySource),
  OSv: () => import('./osv/index.js').then((m) => m.OSvSource),
  K8s: () => import('./k8s/index.js').then((m) => m.K8sSource),
  // registry: one line per source, alphabetical, above this comment
};
