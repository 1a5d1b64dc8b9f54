import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// Built into dist/dashboard, served by the service (src/dashboard) at /dashboard with a strict
// CSP: no inline script or style, so the module-preload polyfill (an inline-free chunk) is off.
export default defineConfig({
  root,
  base: '/dashboard/',
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
