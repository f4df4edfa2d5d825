// The worker serves the built files under /ops/mesh/ (no CDN: everything is bundled).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/ops/mesh/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000, target: 'es2022' },
});
