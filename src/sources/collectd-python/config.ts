// The `modules` param: per module a JSON tree that the child turns into collectd Config objects
// (collectd.py, _config_node). A scalar is a line with one value, a list of scalars a line with
// several, an object a block (its `$values`, if any, the block's own values: `<Node "local">`), and
// a list of objects or lists repeats the key. A module's entry may be a list of blocks: several
// <Module name> blocks, as collectd allows. Checked here, so --check names the bad path.
import { ParamError } from '../../sdk/index.js';

export type Scalar = string | number | boolean;
export type ConfigTree = Scalar | ConfigTree[] | { [key: string]: ConfigTree };

export function checkModules(modules: Record<string, ConfigTree>): void {
  for (const [name, tree] of Object.entries(modules)) {
    if (Array.isArray(tree)) tree.forEach((block, i) => checkBlock(block, `modules.${name}[${i}]`));
    else checkBlock(tree, `modules.${name}`);
  }
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function checkBlock(tree: ConfigTree, at: string): void {
  if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) throw new ParamError(at, 'must be an object (a config block)');
  for (const [key, v] of Object.entries(tree)) {
    if (key === '$values') {
      if (!Array.isArray(v) || !v.every(isScalar))
        throw new ParamError(`${at}.$values`, "must be a list of strings, numbers or booleans (the block's own values)");
    } else {
      checkItem(v, `${at}.${key}`);
    }
  }
}

function checkItem(v: ConfigTree, at: string): void {
  if (isScalar(v)) return;
  if (Array.isArray(v)) {
    if (v.every(isScalar)) return;
    // A repeated key: every item is a line (a list) or a block (an object).
    v.forEach((item, i) => {
      if (Array.isArray(item)) {
        if (!item.every(isScalar)) throw new ParamError(`${at}[${i}]`, 'a repeated line holds only strings, numbers or booleans');
      } else if (typeof item === 'object' && item !== null) {
        checkBlock(item, `${at}[${i}]`);
      } else {
        throw new ParamError(`${at}[${i}]`, 'a list mixing values with blocks or lists: use only blocks/lists to repeat the key');
      }
    });
    return;
  }
  if (typeof v === 'object' && v !== null) return checkBlock(v, at);
  throw new ParamError(at, 'must be a string, a finite number, a boolean, a list or an object');
}
