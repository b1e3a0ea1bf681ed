// Node-only built-ins, imported by a name bundlers leave alone: a page bundled for the browser
// never resolves them, and Node loads them when a path or a file: URL is given.
export const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

/** `import(name)` of a Node built-in ("node:fs/promises", "node:path"). */
export function nodeBuiltin(name) {
  const specifier = name;
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}
