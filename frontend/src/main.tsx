import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { debugHandle } from "./debug";
import "./styles.css";

debugHandle();

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
