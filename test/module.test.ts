// The package as users load it: require, import, and its types.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

describe('the package', () => {
  it('loads with require() and with import, by its own name', () => {
    const script = `const { MmapOptions } = require('memmap'); console.log(new MmapOptions(4096).mapMut().size)`;
    expect(run(['-e', script])).toBe('4096');
    const module = `import { MmapOptions, MmapError } from 'memmap'; console.log(typeof MmapOptions.pageSize(), MmapError.name)`;
    expect(run(['--input-type=module', '-e', module])).toBe('number MmapError');
  });

  it('loads in several worker threads at once', () => {
    const script = `
      const { Worker } = require('node:worker_threads');
      let done = 0;
      for (let i = 0; i < 4; i++) {
        new Worker("const { MmapOptions } = require('memmap'); const m = new MmapOptions(4096).mapMut(); m.bytes[0] = 1; m.unmap();", { eval: true })
          .on('exit', (code) => { if (code === 0 && ++done === 4) console.log('ok'); });
      }`;
    expect(run(['-e', script])).toBe('ok');
  });

  it('ends cleanly when the process exits with mappings and views alive', () => {
    const script = `const { MmapOptions } = require('memmap');
      const keep = [];
      for (let i = 0; i < 100; i++) { const m = new MmapOptions(65536).mapMut(); m.view(0, 16)[0] = i; keep.push(m); }
      console.log('mapped');`;
    expect(run(['-e', script])).toBe('mapped');
  });
});
