/**
 * A short rendering of a value read from a file, for error messages: JSON-like, at most `max`
 * characters, and it never throws. JSON.stringify and String() are not safe on such values: a
 * deeply nested array overflows the stack (RangeError), an object with a "toString" key that is
 * not a function cannot be converted (TypeError), and a million-element list makes a megabyte
 * message. Strings render as JSON strings (`"bert"`), numbers as themselves (`NaN` included).
 */
export function describeValue(value: unknown, max = 80): string {
  let out = '';
  const seen = new Set<object>();
  /** Appends; false once the text is long enough (the caller stops walking). */
  const put = (s: string): boolean => {
    out += s.length > max ? s.slice(0, max + 1) : s;
    return out.length <= max;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint') return put(String(v));
    if (v === undefined) return put('undefined');
    if (typeof v === 'string') return put(JSON.stringify(v.length > max ? v.slice(0, max + 1) : v));
    if (typeof v !== 'object') return put(typeof v);
    if (seen.has(v) || depth >= 8) return put('…');
    seen.add(v);
    let ok = true;
    if (Array.isArray(v)) {
      ok = put('[');
      for (let i = 0; ok && i < v.length; i++) ok = (i === 0 || put(',')) && walk(v[i], depth + 1);
      ok = ok && put(']');
    } else if (v instanceof Map) {
      ok = put(`Map(${v.size})`);
    } else {
      ok = put('{');
      let first = true;
      for (const k of Object.keys(v)) {
        if (!ok) break;
        ok = (first || put(',')) && put(JSON.stringify(k.length > max ? k.slice(0, max + 1) : k) + ':') && walk((v as Record<string, unknown>)[k], depth + 1);
        first = false;
      }
      ok = ok && put('}');
    }
    seen.delete(v);
    return ok;
  };
  walk(value, 0);
  return out.length > max ? out.slice(0, max - 1) + '…' : out;
}
