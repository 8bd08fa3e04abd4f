import { useState } from "react";
import type { DirectoryApi } from "../../api";
import type { OrganizationSettings } from "../../types";
import { webhookUrls } from "../../webhooks";
import { CopyField, SectionError, useSectionAction } from "./common";

interface Props {
  api: DirectoryApi;
  organization: OrganizationSettings;
  origin: string;
  onUnauthorized(): void;
}

type Rotation = { step: "idle" } | { step: "confirm" } | { step: "rotated"; secret: string };

export function WebhooksSection({ api, organization, origin, onUnauthorized }: Props) {
  const action = useSectionAction(onUnauthorized);
  const [rotation, setRotation] = useState<Rotation>({ step: "idle" });
  const urls = webhookUrls(origin, organization.webhook_paths);

  function rotate() {
    void action.run("form", "rotate", async () => {
      const rotated = await api.rotateWebhookSecret();
      setRotation({ step: "rotated", secret: rotated.webhook_secret });
    });
  }

  return (
    <section
      className="card panel settings-section"
      aria-label="Webhooks"
      data-testid="settings-webhooks"
      id="webhooks"
    >
      <h2>Cloudonix webhooks</h2>
      <p className="muted section-intro">
        Give Cloudonix these URLs. It signs every request with the webhook secret (
        <span className="mono">X-Cloudonix-Signature</span>); requests with a wrong signature are refused.
      </p>
      <div className="webhook-list">
        {urls.map((webhook) => (
          <div key={webhook.kind} className="webhook-row" data-testid="webhook" data-kind={webhook.kind}>
            <span className="webhook-label">{webhook.label}</span>
            <CopyField
              value={webhook.url}
              label={`${webhook.label} webhook URL`}
              testId="webhook-url"
              copyTestId="webhook-copy"
              kind={webhook.kind}
            />
          </div>
        ))}
      </div>

      <div className="secret-block">
        <h3>Webhook secret</h3>
        {rotation.step === "idle" && (
          <div className="secret-idle">
            <p className="muted">
              The secret is shown only once, when it is made. Rotate it if it may have leaked or was lost.
            </p>
            <button
              type="button"
              className="ghost danger"
              data-testid="rotate-secret"
              onClick={() => setRotation({ step: "confirm" })}
            >
              Rotate secret…
            </button>
          </div>
        )}
        {rotation.step === "confirm" && (
          <div className="notice confirm-block" data-testid="rotate-confirm-step">
            <p>
              <strong>Rotate the webhook secret?</strong> The current secret stops working at once: Cloudonix webhooks
              are refused until you give Cloudonix the new one.
            </p>
            <div className="button-row">
              <button
                type="button"
                className="danger"
                data-testid="rotate-confirm"
                disabled={action.busy !== null}
                onClick={rotate}
              >
                {action.busy === "rotate" ? "Rotating…" : "Rotate now"}
              </button>
              <button
                type="button"
                className="ghost"
                data-testid="rotate-cancel"
                autoFocus
                onClick={() => setRotation({ step: "idle" })}
              >
                Cancel
              </button>
            </div>
          </div>
        )}
        {rotation.step === "rotated" && (
          <div className="secret-result" data-testid="secret-result">
            <p className="notice" role="alert" data-testid="secret-warning">
              <strong>Update Cloudonix now.</strong> Webhooks signed with the old secret are refused from now on. Copy
              the new secret: it is not shown again.
            </p>
            <CopyField
              value={rotation.secret}
              label="New webhook secret"
              testId="new-secret"
              copyTestId="new-secret-copy"
            />
            <button
              type="button"
              className="ghost"
              data-testid="new-secret-done"
              onClick={() => setRotation({ step: "idle" })}
            >
              Done, hide it
            </button>
          </div>
        )}
        <SectionError action={action} place="form" />
      </div>
    </section>
  );
}
