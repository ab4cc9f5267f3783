/** The home page's illustration: Ada and Bram opening a connection, as a little sequence diagram (decorative). */
import { html } from './html.ts';

const arrow = (y: number, toRight: boolean, label: string, accent = false) => {
  const [x1, x2] = toRight ? [86, 274] : [274, 86];
  return html`<g class="${accent ? 'hero-msg hero-msg-accent' : 'hero-msg'}"><path d="M${x1} ${y + 8} L${x2} ${y + 26}" marker-end="url(#hero-head)"/><text x="180" y="${y + 4}" text-anchor="middle">${label}</text></g>`;
};

/** An inline SVG, styled by the site's colours so it follows the theme. */
export const heroArt = html`<svg class="hero-art" viewBox="0 0 360 330" aria-hidden="true" focusable="false">
<defs><marker id="hero-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="context-stroke"/></marker></defs>
<g class="hero-actor"><rect x="40" y="16" width="92" height="40" rx="12"/><text x="86" y="42" text-anchor="middle">Ada</text></g>
<g class="hero-actor hero-actor-2"><rect x="228" y="16" width="92" height="40" rx="12"/><text x="274" y="42" text-anchor="middle">Bram</text></g>
<path class="hero-life" d="M86 60 V316 M274 60 V316"/>
${arrow(80, true, 'SYN')}
${arrow(124, false, 'SYN-ACK')}
${arrow(168, true, 'ACK')}
${arrow(216, true, '"hello, Bram"', true)}
${arrow(262, false, '"hello, Ada"', true)}
</svg>`;
