// node:util plus the two functions of Node 20.12 that vitest's toolchain
// imports (see register.mjs): styleText (rolldown) and parseEnv (vite, which
// reads .env files with it).
import util from 'node:util';

export * from 'node:util';

export function styleText(format, text) {
  if (typeof text !== 'string') {
    throw new TypeError(`styleText: text must be a string, got ${typeof text}`);
  }
  let open = '';
  let close = '';
  for (const name of Array.isArray(format) ? format : [format]) {
    const codes = util.inspect.colors[name];
    if (!codes) {
      throw new TypeError(`styleText: format ${JSON.stringify(name)} is not one of util.inspect.colors`);
    }
    open = `${open}\u001b[${codes[0]}m`;
    close = `\u001b[${codes[1]}m${close}`;
  }
  return `${open}${text}${close}`;
}

// parseEnv(content): the variables of a .env file, as Node's dotenv parser
// reads them: KEY=value lines, an optional `export ` before the key, # comments,
// values in '', "" or `` quotes (which may span lines; \n in "" is a newline),
// unquoted values trimmed and cut at a #.
export function parseEnv(content) {
  if (typeof content !== 'string') {
    throw new TypeError(`parseEnv: content must be a string, got ${typeof content}`);
  }
  const variables = {};
  const line =
    /^\s*(?:export\s+)?([\w.-]+)\s*=\s*("(?:\\.|[^"\\])*"|'[^']*'|`[^`]*`|[^#\r\n]*)[^\S\r\n]*(?:#.*)?$/gm;
  for (const [, key, raw] of content.replace(/\r\n?/g, '\n').matchAll(line)) {
    const quote = raw[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      const value = raw.slice(1, -1);
      variables[key] = quote === '"' ? value.replace(/\\n/g, '\n') : value;
    } else {
      variables[key] = raw.trim();
    }
  }
  return variables;
}

util.styleText ??= styleText;
util.parseEnv ??= parseEnv;
export default util;
