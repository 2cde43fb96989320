import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The member centre (mobile-first H5), served by the API server at /m (web/build.ts builds it into
// web/dist/member; `npm run dev:member` serves it with hot reload, proxying /v1 to the API).
export default defineConfig({
  root: import.meta.dirname,
  base: '/m/',
  plugins: [react()],
  build: { outDir: '../dist/member', emptyOutDir: true, manifest: true },
  server: { port: 5174, proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
