import { useCallPresence } from "../presence";

interface Props {
  organizationId: number | string;
  currentUserId: string | number;
}

function initials(name: string): string {
  return (
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((p) => p[0]?.toUpperCase() ?? "")
      .join("") || "?"
  );
}

export function OnlineMembers({ organizationId, currentUserId }: Props) {
  const { members } = useCallPresence(organizationId);
  return (
    <section className="card panel" aria-label="Who's online">
      <h2>
        Who's online <span className="count">{members.length}</span>
      </h2>
      {members.length === 0 ? (
        <p className="empty muted">Nobody else is here yet.</p>
      ) : (
        <ul className="members">
          {members.map((m) => (
            <li key={String(m.id)} data-testid="online-member" data-user-id={String(m.id)} className="member">
              <span className="avatar" aria-hidden="true">
                {initials(m.name ?? "")}
              </span>
              <span className="member-name">
                {m.name}
                {String(m.id) === String(currentUserId) && <span className="muted"> (you)</span>}
              </span>
              {m.role && <span className="role muted">{m.role}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
