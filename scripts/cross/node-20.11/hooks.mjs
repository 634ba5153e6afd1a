// Module resolution hook (see register.mjs): every ES import of node:util gets
// util.mjs instead, except util.mjs's own.
const withStyleText = new URL('./util.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === 'node:util' || specifier === 'util') && context.parentURL !== withStyleText) {
    return { url: withStyleText, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
