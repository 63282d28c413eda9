/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API the dev server forwards to (a standalone `nexuslog` on its default port).
const api = process.env.NEXUSLOG_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Every emitted asset carries a content hash, so the server may cache it forever.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
    // dist/.vite/manifest.json: which chunks each page loads (scripts/bundle-report.mjs reads it).
    manifest: true,
    rolldownOptions: {
      output: {
        // Libraries in chunks of their own: they change less often than the console, so
        // browsers keep them cached across releases; and the size of each is visible.
        codeSplitting: {
          groups: [
            { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|react-router|cookie|set-cookie-parser)[\\/]/, priority: 30 },
            // minShareCount: ECharts modules only one page uses (the alert chart's markLine) stay in
            // that page's chunk; entriesAware: modules the pages share in different sets are chunked
            // by set (the line, pie and legend Alerts and Dashboards share are not in the chunk
            // Explore loads for its bar chart), so Explore's first load carries none of them.
            { name: 'echarts', test: /node_modules[\\/](echarts|zrender|tslib)[\\/]/, priority: 30, minShareCount: 2, entriesAware: true },
            { name: 'codemirror', test: /node_modules[\\/](@codemirror|@lezer|crelt|style-mod|w3c-keyname|@marijn)[\\/]/, priority: 30 },
            { name: 'i18n', test: /node_modules[\\/](i18next|react-i18next|html-parse-stringify|void-elements|use-sync-external-store)[\\/]/, priority: 30 },
          ],
        },
      },
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/v1': { target: api, changeOrigin: false },
      '/healthz': { target: api, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      '/v1': { target: api, changeOrigin: false },
      '/healthz': { target: api, changeOrigin: false },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
