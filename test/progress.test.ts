// The progress display on stderr: a bar redrawn in place on a terminal, one plain line per batch
// otherwise, nothing with --quiet; notes clear the bar first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress } from '../src/cli/progress.js';

/** A stand-in for process.stderr that records what is written. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test('terminal: a bar redrawn in place (\\r, clear line), records, residues/s and ETA; a newline when done', () => {
  const s = stream(true);
  const p = new Progress(false, s);
  p.update(1, 4, 250, 1000);
  const first = s.text;
  assert.ok(first.startsWith('\r\x1b[K['), `redraws from the line start: ${JSON.stringify(first)}`);
  assert.match(first, /\[######\.{18}\] 1\/4 records, 250\/1000 residues, \d+ residues\/s, ETA \d+(m\d\ds|s)/);
  assert.not.ok(first.includes('\n'), 'no newline while running');
  p.note('a note');
  assert.ok(s.text.endsWith('\r\x1b[Ka note\n'), 'a note clears the bar first');
  p.update(4, 4, 1000, 1000);
  assert.match(s.text, /\[#{24}\] 4\/4 records, 1000\/1000 residues, .*\n$/);
});

test('not a terminal: one plain line per update, no control characters', () => {
  const s = stream(false);
  const p = new Progress(false, s);
  p.update(1, 2, 5, 10);
  p.update(2, 2, 10, 10);
  const lines = s.text.split('\n');
  assert.is(lines.length, 3);
  assert.match(lines[0], /^1\/2 records, 5\/10 residues, \d+ residues\/s, ETA /);
  assert.match(lines[1], /^2\/2 records, 10\/10 residues/);
  assert.not.match(s.text, /[\r\x1b]/);
});

test('--quiet: nothing at all', () => {
  for (const tty of [true, false]) {
    const s = stream(tty);
    const p = new Progress(true, s);
    p.update(1, 2, 5, 10);
    p.note('hidden');
    assert.is(s.text, '', `quiet on ${tty ? 'a terminal' : 'a pipe'}`);
  }
});

test.run();
