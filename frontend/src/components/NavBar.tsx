import type { MouseEvent } from "react";
import { isPlainLeftClick, type NavItem, type Page } from "../routes";

interface Props {
  items: readonly NavItem[];
  current: Page | null;
  onNavigate(path: string): void;
}

/** The header's page links: real links (open in a new tab works), followed in-page with pushState. */
export function NavBar({ items, current, onNavigate }: Props) {
  function follow(event: MouseEvent<HTMLAnchorElement>, path: string) {
    if (!isPlainLeftClick(event)) return;
    event.preventDefault();
    onNavigate(path);
  }

  return (
    <nav className="nav" aria-label="Pages">
      {items.map((item) => {
        const active = item.page === current;
        return (
          <a
            key={item.page}
            href={item.path}
            data-testid={item.testId}
            className={active ? "nav-link active" : "nav-link"}
            aria-current={active ? "page" : undefined}
            onClick={(event) => follow(event, item.path)}
          >
            {item.label}
          </a>
        );
      })}
    </nav>
  );
}
