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

  it('offers every export of require() as a named ESM export, and no __esModule', () => {
    const module = `import * as esm from 'memmap'; import { createRequire } from 'node:module';
      const cjs = createRequire(process.cwd() + '/')('memmap');
      const named = Object.keys(esm).sort(), required = Object.keys(cjs).filter((key) => key !== '__esModule').sort();
      console.log(JSON.stringify({ same: JSON.stringify(named) === JSON.stringify(required), esModule: '__esModule' in esm, shared: esm.MmapOptions === cjs.MmapOptions }));`;
    expect(JSON.parse(run(['--input-type=module', '-e', module]))).toEqual({ same: true, esModule: false, shared: true });
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

  it('tears down cleanly with a flush pending: at process exit and in a terminated worker', () => {
    const script = `
      const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
      const { Worker } = require('node:worker_threads');
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-')), 'data');
      fs.writeFileSync(file, Buffer.alloc(1 << 20));
      const worker = new Worker(\`
        const fs = require('node:fs');
        const { MmapOptions, MmapFlags } = require('memmap');
        const fd = fs.openSync(\${JSON.stringify(file)}, 'r+');
        const m = new MmapOptions(1 << 20).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
        m.bytes.fill(1);
        m.flushAsync();
        require('node:worker_threads').parentPort.postMessage('flushing');
        setInterval(() => m.bytes[0]++, 1);\`, { eval: true });
      worker.once('message', async () => {
        await worker.terminate();
        const { MmapOptions, MmapFlags } = require('memmap');
        const fd = fs.openSync(file, 'r+');
        const m = new MmapOptions(1 << 20).withFile(fd).withFlags(MmapFlags.SHARED).mapMut();
        m.bytes.fill(2);
        m.flushAsync();
        console.log('exiting with a flush pending');
      });`;
    expect(run(['-e', script])).toBe('exiting with a flush pending');
  });

  it('ends cleanly when the process exits with mappings and views alive', () => {
    const script = `const { MmapOptions } = require('memmap');
      const keep = [];
      for (let i = 0; i < 100; i++) { const m = new MmapOptions(65536).mapMut(); m.view(0, 16)[0] = i; keep.push(m); }
      console.log('mapped');`;
    expect(run(['-e', script])).toBe('mapped');
  });
});
