// prott5 tune: measure a model's kernel variants on this adapter ahead of time (what the first
// load would do), or --reset the stored choices (this adapter's, or --all), saying what went.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { createNodeRuntime } from '../gpu/node-gpu.js';
import { FileTuneStore } from '../gpu/node-tune-store.js';
import { cachedChoices, resetChoices } from '../gpu/tuner.js';
import { loadProtT5 } from '../node.js';
import { EXIT } from './exit-codes.js';

export const TUNE_HELP = `Usage: prott5 tune --model DIR|OWNER/NAME [--all-shapes]
       prott5 tune --reset [--all]

Measures the kernel variants for a model's shapes on this adapter and stores the fastest
(<cache>/autotune.json, with the time each ran in), as the first load would; later loads read
them. Shapes too small to be worth measuring (the demo model's) use the variants that
compile fastest unless --all-shapes. A stored choice that later runs over twice as slow as recorded is measured again.

Options:
  -m, --model DIR|ID   the model whose shapes to tune
      --all-shapes     tune the small shapes too
      --reset          remove this adapter's stored choices (they are measured again at the next load)
      --all            with --reset: every adapter's
  -h, --help           this help`;

/** "matmul f16|4096|1024" from a stored key (op | source hash | adapter ... | shape). */
function describeKey(key: string): string {
  const parts = key.split('|');
  return `${parts[0]} ${parts.slice(-3).join('|')}`;
}

export async function tuneCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string', short: 'm' },
      'all-shapes': { type: 'boolean', default: false },
      reset: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(TUNE_HELP);
    return EXIT.OK;
  }
  if (positionals.length) throw new UsageError(`tune takes no positional arguments, got "${positionals[0]}"\n\n${TUNE_HELP}`);
  if (values.all && !values.reset) throw new UsageError(`--all goes with --reset\n\n${TUNE_HELP}`);
  if (values.reset === (values.model !== undefined)) throw new UsageError(`tune needs either --model DIR or --reset\n\n${TUNE_HELP}`);
  const store = new FileTuneStore();
  if (values.reset) {
    const rt = values.all ? null : await createNodeRuntime({ quietDrivers: true });
    try {
      const gone = await resetChoices(store, rt);
      const whose = rt ? `for ${rt.adapter.description || rt.adapter.kind}` : 'for every adapter';
      console.log(gone.length ? `removed ${gone.length} tuned choice${gone.length === 1 ? '' : 's'} ${whose} from ${store.path}:` : `no tuned choices ${whose} in ${store.path}`);
      for (const k of gone) console.log(`  ${values.all ? k : describeKey(k)}`);
    } finally {
      rt?.destroy();
    }
    return EXIT.OK;
  }
  const model = await loadProtT5(values.model!, {
    quietDrivers: true,
    tuneStore: store,
    autotune: values['all-shapes'] ? 'all' : true,
    warmup: false,
    onProgress: (p) => {
      if (p.phase === 'download' && p.finished) process.stderr.write(`downloaded ${p.file}\n`);
      else if (p.phase === 'tuning' && p.variant === null) process.stderr.write(`tuning ${p.op} ${p.shape}${p.cached ? ' (stored)' : ''}\n`);
    },
  });
  try {
    const rt = model.runtime;
    const choices = Object.entries(await cachedChoices(rt, store));
    console.log(`${model.summary}\nadapter ${rt.adapter.description || rt.adapter.kind}: ${choices.length} stored choice${choices.length === 1 ? '' : 's'} in ${store.path}`);
    for (const [k, v] of choices) console.log(`  ${k.padEnd(40)}${JSON.stringify(v)}`);
    if (!choices.length) console.log('  none: every shape is under the size rule (the fastest-compiling variants are used); --all-shapes tunes them');
  } finally {
    await model.dispose();
  }
  return EXIT.OK;
}
