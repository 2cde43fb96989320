import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The operator console, served by the API server at /console (web/build.ts builds it into
// web/dist/console; `npm run dev:console` serves it with hot reload, proxying /v1 to the API).
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [react()],
  build: { outDir: '../dist/console', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: { port: 5173, proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
