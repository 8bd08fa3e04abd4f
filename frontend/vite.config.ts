import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The dashboard is served by the Python API at "/", from src/opbx/dashboard/static.
export default defineConfig({
  base: "/",
  plugins: [react()],
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
