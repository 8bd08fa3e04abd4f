import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

const require = createRequire(import.meta.url);

// The API reference page (/api/docs, served by the Python API) renders with Swagger UI from
// these files, copied into the build so the page works without any network.
function apiReferenceAssets(): Plugin {
  const files = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];
  return {
    name: "opbx-api-reference-assets",
    apply: "build",
    generateBundle() {
      const root = dirname(require.resolve("swagger-ui-dist/package.json"));
      for (const file of files) {
        this.emitFile({ type: "asset", fileName: `api-docs/${file}`, source: readFileSync(join(root, file)) });
      }
    },
  };
}

// The dashboard is served by the Python API at "/", from src/opbx/dashboard/static.
export default defineConfig({
  base: "/",
  plugins: [react(), apiReferenceAssets()],
  build: {
    outDir: "../src/opbx/dashboard/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npm run dev` proxies the API to a locally running `opbx serve`.
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
