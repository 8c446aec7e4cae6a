// Which family runs a model folder: config.json's `model_type`, else its `architectures`.
// A family is one folder under src/models/ plus one line here (or registerFamily from outside).
import { ConfigError } from '../errors.js';
import { describeValue } from '../../weights/describe.js';
import type { Family } from './family.js';
import { albert } from './albert/index.js';
import { bert } from './bert/index.js';
import { electra } from './electra/index.js';
import { esm } from './esm/index.js';
import { t5 } from './t5/index.js';
import { xlnet } from './xlnet/index.js';

const families: Family<any>[] = [t5, bert, electra, albert, esm, xlnet];

/** The family a config.json without `model_type` or `architectures` is read as (ProtT5 folders made by hand). */
const DEFAULT_FAMILY = t5;

/** Adds a family (a later registration of the same name replaces the earlier one). */
export function registerFamily(family: Family<any>): void {
  const i = families.findIndex((f) => f.name === family.name);
  if (i >= 0) families[i] = family;
  else families.push(family);
}

export function registeredFamilies(): readonly Family<unknown>[] {
  return families;
}

/** The family for a parsed config.json (`file` names it in errors). */
export function familyFor(raw: unknown, file: string): Family<unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${file}: not a JSON object`, { file });
  const c = raw as { model_type?: unknown; architectures?: unknown };
  const known = families.map((f) => f.modelTypes.join('/')).join(', ');
  if (c.model_type !== undefined) {
    const f = typeof c.model_type === 'string' ? families.find((x) => x.modelTypes.includes(c.model_type as string)) : undefined;
    if (!f) throw new ConfigError(`${file}: model_type is ${describeValue(c.model_type)}, this engine runs ${known}`, { file, key: 'model_type' });
    return f;
  }
  if (Array.isArray(c.architectures)) {
    for (const a of c.architectures) {
      const f = families.find((x) => typeof a === 'string' && x.architectures?.includes(a));
      if (f) return f;
    }
  }
  return DEFAULT_FAMILY;
}
