// A restricted unpickler for the data.pkl that torch.save writes (pickle protocol 2). It executes
// nothing: GLOBAL may only name the few torch/collections objects a state dict uses, and calling
// them (REDUCE) builds plain data objects (tensor and storage references) instead. Anything else,
// including every opcode torch does not emit, is a WeightsError naming the opcode and its offset.
// Stack, memo and string sizes are bounded, so junk input cannot exhaust memory.
import { WeightsError } from '../src/errors.js';
import { describeValue } from './describe.js';
import type { DType } from '../src/gpu/dtype.js';

/** `('storage', StorageType, key, location, numel)` from a persistent id: a zip entry `data/<key>`. */
export interface TorchStorageRef {
  readonly kind: 'storage';
  /** The storage class, e.g. `torch.HalfStorage`. */
  readonly type: string;
  /** Element type, or null for a storage type the engine does not read (Double, Long, ...). */
  readonly dtype: DType | null;
  readonly key: string;
  readonly location: string;
  /** Size in elements. */
  readonly numel: number;
}

/** What `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` describes. */
export interface TorchTensorRef {
  readonly kind: 'tensor';
  readonly storage: TorchStorageRef;
  /** In elements. */
  readonly storageOffset: number;
  readonly size: readonly number[];
  /** In elements. */
  readonly stride: readonly number[];
}

/** A name imported with GLOBAL / STACK_GLOBAL (only allowlisted ones exist). */
export interface PickleGlobal {
  readonly kind: 'global';
  readonly name: string;
}

/**
 * An object NEWOBJ made from an allow-listed module class (only with `modules: true`): inert,
 * its `__dict__` as BUILD gave it. Nothing of the class is run.
 */
export interface PickleObject {
  readonly kind: 'object';
  /** The class, e.g. `torch.nn.modules.conv.Conv1d`. */
  readonly cls: string;
  /** The state BUILD set (a module's `__dict__`), or null before BUILD. */
  state: Map<PickleKey, PickleValue> | null;
}

export type PickleKey = string | number | bigint | boolean | null;
/**
 * Unpickled values. Lists are arrays, tuples are frozen arrays, dicts (and OrderedDicts) are Maps
 * in insertion order.
 */
export type PickleValue =
  | PickleKey
  | PickleValue[]
  | Map<PickleKey, PickleValue>
  | PickleGlobal
  | TorchStorageRef
  | TorchTensorRef
  | PickleObject;

/** Storage classes torch.save names in persistent ids, with the dtype the engine reads them as. */
export const TORCH_STORAGE_TYPES: Readonly<Record<string, DType | null>> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  // Known but not read: tensors in these are reported as unsupported, not loaded.
  'torch.DoubleStorage': null,
  'torch.LongStorage': null,
  'torch.IntStorage': null,
  'torch.ShortStorage': null,
  'torch.CharStorage': null,
  'torch.ByteStorage': null,
  'torch.BoolStorage': null,
};

/** Callables a state dict may use; REDUCE on them builds data, never runs anything. */
const CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
]);

/**
 * With `modules: true`, exactly these globals and no others: what `torch.save(model)` of
 * bindPredict's `architectures.CNN2Layers` uses (the fixture README lists them). The module
 * classes only become inert objects (NEWOBJ with no arguments, then BUILD of their `__dict__`).
 */
export const MODULE_GLOBALS: ReadonlySet<string> = new Set([
  '__builtin__.set',
  'architectures.CNN2Layers',
  'collections.OrderedDict',
  'torch.FloatStorage',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_tensor_v2',
  'torch.nn.modules.activation.ELU',
  'torch.nn.modules.container.Sequential',
  'torch.nn.modules.conv.Conv1d',
  'torch.nn.modules.dropout.Dropout',
]);
const MODULE_CLASSES = new Set([
  'architectures.CNN2Layers',
  'torch.nn.modules.activation.ELU',
  'torch.nn.modules.container.Sequential',
  'torch.nn.modules.conv.Conv1d',
  'torch.nn.modules.dropout.Dropout',
]);

const MAX_STACK = 1 << 20;
const MAX_MEMO = 1 << 20;
const MAX_STRING_BYTES = 4 * 1024 * 1024;
const MAX_GLOBAL_LINE = 256;

/** Opcode names, for error messages (all of pickle's, so a rejected one is recognisable). */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

export interface UnpickleOptions {
  /** The file, for error messages. */
  readonly file: string;
  /** The zip entry holding the pickle, for error messages. */
  readonly entry: string;
  /**
   * Read a pickled whole module (`torch.save(model)`) with the globals of MODULE_GLOBALS, and
   * only those. Default false: the state-dict globals only.
   */
  readonly modules?: boolean;
}

export const isTuple = (v: PickleValue): v is PickleValue[] => Array.isArray(v) && Object.isFrozen(v);
const isList = (v: PickleValue): v is PickleValue[] => Array.isArray(v) && !Object.isFrozen(v);
const isObj = (v: PickleValue): v is PickleGlobal | TorchStorageRef | TorchTensorRef | PickleObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map);
export const isTorchTensor = (v: PickleValue): v is TorchTensorRef => isObj(v) && v.kind === 'tensor';
const isStorage = (v: PickleValue): v is TorchStorageRef => isObj(v) && v.kind === 'storage';
const isGlobal = (v: PickleValue): v is PickleGlobal => isObj(v) && v.kind === 'global';
export const isPickleObject = (v: PickleValue): v is PickleObject => isObj(v) && v.kind === 'object';
const isKey = (v: PickleValue): v is PickleKey => v === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof v);
const tuple = (items: PickleValue[]): PickleValue[] => Object.freeze(items) as PickleValue[];

/** Unpickles a torch.save data.pkl into plain data. Throws WeightsError on anything outside the subset. */
export function unpickleTorch(data: Uint8Array, opts: UnpickleOptions): PickleValue {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: PickleValue[] = [];
  const marks: number[] = []; // stack lengths at each open MARK
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  let at = 0; // offset of the current opcode
  let op = 0;

  const fail = (msg: string): never => {
    const name = OPCODE_NAMES[op];
    const what = op < 0 ? '' : `opcode 0x${op.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''} `;
    throw new WeightsError(`${opts.file}: ${opts.entry}: ${what}at offset ${at}: ${msg}`, {
      file: opts.file, entry: opts.entry, offset: at, ...(op < 0 ? {} : { opcode: op }),
    });
  };
  const need = (n: number): void => {
    if (pos + n > data.length) fail(`needs ${n} more bytes but the pickle ends at ${data.length}: truncated`);
  };
  const u8 = (): number => { need(1); return data[pos++]; };
  const u16 = (): number => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    if (n > MAX_STRING_BYTES) fail(`string of ${n} bytes is longer than the limit of ${MAX_STRING_BYTES}`);
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const utf8 = (n: number): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes(n));
    } catch (e) {
      if (e instanceof WeightsError) throw e;
      return fail('string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0 || end - pos > MAX_GLOBAL_LINE) fail('GLOBAL name is not a short newline-terminated line');
    const s = new TextDecoder('utf-8').decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };

  const floor = (): number => (marks.length ? marks[marks.length - 1] : 0);
  const push = (v: PickleValue): void => {
    if (stack.length >= MAX_STACK) fail(`stack is deeper than the limit of ${MAX_STACK}`);
    stack.push(v);
  };
  const pop = (): PickleValue => {
    if (stack.length <= floor()) fail('stack underflow');
    return stack.pop() as PickleValue;
  };
  const top = (): PickleValue => {
    if (stack.length <= floor()) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PickleValue[] => {
    if (!marks.length) fail('no MARK to pop to');
    return stack.splice(marks.pop() as number);
  };
  const put = (idx: number): void => {
    if (!memo.has(idx) && memo.size >= MAX_MEMO) fail(`memo holds more than the limit of ${MAX_MEMO} entries`);
    memo.set(idx, top());
  };
  const get = (idx: number): void => {
    const v = memo.get(idx);
    if (v === undefined) fail(`memo key ${idx} was never stored`);
    push(v as PickleValue);
  };
  const int = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const full = `${module}.${name}`;
    if (opts.modules) {
      if (!MODULE_GLOBALS.has(full)) fail(`global ${full} is not allowed: a pickled module may only use ${[...MODULE_GLOBALS].join(', ')}`);
      return { kind: 'global', name: full };
    }
    if (!CALLABLES.has(full) && !Object.hasOwn(TORCH_STORAGE_TYPES, full)) {
      fail(`global ${full} is not allowed: a weights file may only use ${[...CALLABLES, ...Object.keys(TORCH_STORAGE_TYPES)].join(', ')}`);
    }
    return { kind: 'global', name: full };
  };
  const setItem = (dict: PickleValue, key: PickleValue, value: PickleValue): void => {
    if (!(dict instanceof Map)) fail('target is not a dict');
    if (!isKey(key)) fail('dict key is not a string, number, bool or None');
    (dict as Map<PickleKey, PickleValue>).set(key as PickleKey, value);
  };
  const natural = (v: PickleValue, what: string): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${what} ${describeValue(v)} is not a non-negative integer`);
    return v as number;
  };
  const naturals = (v: PickleValue, what: string): number[] => {
    if (!Array.isArray(v)) fail(`${what} is not a tuple`);
    return (v as PickleValue[]).map((d, i) => natural(d, `${what}[${i}]`));
  };

  // REDUCE / NEWOBJ on an allowlisted global: build the data it describes.
  const call = (fn: PickleValue, args: PickleValue, viaNewobj: boolean): PickleValue => {
    if (!isGlobal(fn)) fail('callable is not an allowed global');
    if (!isTuple(args)) fail('arguments are not a tuple');
    const f = (fn as PickleGlobal).name, a = args as PickleValue[];
    if (MODULE_CLASSES.has(f)) {
      if (!viaNewobj || a.length !== 0) fail(`${f} may only be created by NEWOBJ with no arguments`);
      return { kind: 'object', cls: f, state: null };
    }
    if (f === '__builtin__.set') {
      if (viaNewobj || a.length !== 1 || !isList(a[0])) fail('set takes one list');
      return [...(a[0] as PickleValue[])];
    }
    if (f === 'collections.OrderedDict') {
      const d = new Map<PickleKey, PickleValue>();
      if (a.length === 0) return d;
      if (a.length === 1 && Array.isArray(a[0])) {
        for (const pair of a[0] as PickleValue[]) {
          if (!Array.isArray(pair) || pair.length !== 2) fail('OrderedDict items are not (key, value) pairs');
          setItem(d, (pair as PickleValue[])[0], (pair as PickleValue[])[1]);
        }
        return d;
      }
      return fail('OrderedDict takes no arguments or one list of pairs');
    }
    if (viaNewobj) fail(`${f} cannot be created with NEWOBJ`);
    if (f === 'torch._utils._rebuild_tensor_v2' || f === 'torch._utils._rebuild_tensor') {
      if (a.length < 4) fail(`${f} needs at least 4 arguments, got ${a.length}`);
      const storage = a[0];
      if (!isStorage(storage)) fail(`${f}: first argument is not a storage (persistent id)`);
      const size = naturals(a[2], 'size'), stride = naturals(a[3], 'stride');
      if (size.length !== stride.length) fail(`${f}: size has ${size.length} dimensions but stride has ${stride.length}`);
      return { kind: 'tensor', storage: storage as TorchStorageRef, storageOffset: natural(a[1], 'storage offset'), size, stride };
    }
    if (f === 'torch._utils._rebuild_parameter' || f === 'torch._utils._rebuild_parameter_with_state') {
      if (a.length < 1 || !isTorchTensor(a[0])) fail(`${f}: first argument is not a tensor`);
      return a[0];
    }
    return fail(`${f} cannot be called`);
  };

  // BINPERSID: torch's ('storage', StorageType, key, location, numel).
  const persistentLoad = (pid: PickleValue): TorchStorageRef => {
    if (!isTuple(pid) || pid.length !== 5 || pid[0] !== 'storage') fail("persistent id is not ('storage', type, key, location, numel)");
    const [, type, key, location, numel] = pid as PickleValue[];
    if (!isGlobal(type) || !Object.hasOwn(TORCH_STORAGE_TYPES, (type as PickleGlobal).name)) fail('persistent id does not name a storage type');
    if (typeof key !== 'string' || typeof location !== 'string') fail('persistent id key or location is not a string');
    const t = (type as PickleGlobal).name;
    return { kind: 'storage', type: t, dtype: TORCH_STORAGE_TYPES[t], key: key as string, location: location as string, numel: natural(numel, 'storage size') };
  };

  for (;;) {
    at = pos;
    if (pos >= data.length) { op = -1; fail('the pickle ends without STOP: truncated'); }
    op = data[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`pickle protocol ${v} is not supported`);
        break;
      }
      case 0x95: { // FRAME: a length prefix only; the framed opcodes follow inline
        const n = u64();
        need(n);
        break;
      }
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        if (marks.length >= MAX_STACK) fail(`more than ${MAX_STACK} open MARKs`);
        marks.push(stack.length);
        break;
      case 0x7d: push(new Map()); break; // EMPTY_DICT
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x29: push(tuple([])); break; // EMPTY_TUPLE
      case 0x58: push(utf8(u32())); break; // BINUNICODE
      case 0x8c: push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: push(utf8(u64())); break; // BINUNICODE8
      case 0x55: push(latin1(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x54: { // BINSTRING
        need(4);
        const n = dv.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail(`negative string length ${n}`);
        push(latin1(bytes(n)));
        break;
      }
      case 0x4a: { need(4); const v = dv.getInt32(pos, true); pos += 4; push(v); break; } // BININT
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(u16()); break; // BININT2
      case 0x8a: { // LONG1: n-byte little-endian two's complement
        const b = bytes(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (b.length && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
        push(int(v));
        break;
      }
      case 0x47: { need(8); push(dv.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian)
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x74: push(tuple(popMark())); break; // TUPLE
      case 0x85: { const a = pop(); push(tuple([a])); break; } // TUPLE1
      case 0x86: { const b = pop(), a = pop(); push(tuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); push(tuple([a, b, c])); break; } // TUPLE3
      case 0x71: put(u8()); break; // BINPUT
      case 0x72: put(u32()); break; // LONG_BINPUT
      case 0x94: put(memo.size); break; // MEMOIZE
      case 0x68: get(u8()); break; // BINGET
      case 0x6a: get(u32()); break; // LONG_BINGET
      case 0x73: { const v = pop(), k = pop(); setItem(top(), k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) fail('odd number of items');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x61: { // APPEND
        const v = pop(), l = top();
        if (!isList(l)) fail('target is not a list');
        (l as PickleValue[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark(), l = top();
        if (!isList(l)) fail('target is not a list');
        for (const v of items) (l as PickleValue[]).push(v);
        break;
      }
      case 0x63: { const module = line(); push(resolveGlobal(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name are not strings');
        push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(), fn = pop(); push(call(fn, args, false)); break; } // REDUCE
      case 0x81: { const args = pop(), cls = pop(); push(call(cls, args, true)); break; } // NEWOBJ
      case 0x62: { // BUILD: object state (e.g. a state dict's _metadata, ignored; a module's __dict__, kept)
        const state = pop();
        const target = top();
        if (isPickleObject(target)) {
          if (!(state instanceof Map) || target.state) fail(`BUILD of ${target.cls} needs one dict state`);
          target.state = state as Map<PickleKey, PickleValue>;
          break;
        }
        if (!(target instanceof Map) && !isTorchTensor(target)) fail('BUILD target is not a dict or tensor');
        break;
      }
      case 0x51: push(persistentLoad(pop())); break; // BINPERSID
      default:
        fail('is not supported by this reader (torch.save does not write it)');
    }
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
