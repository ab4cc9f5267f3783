/** The few icons of the page shell, as inline SVG (decorative: aria-hidden). */
import { html, type SafeHtml } from './html.ts';

const svg = (body: SafeHtml, size = 20) =>
  html`<svg class="icon" width="${size}" height="${size}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;

/** Icons by name. */
export const icons = {
  menu: svg(html`<path d="M4 6h16M4 12h16M4 18h16"/>`),
  search: svg(html`<circle cx="11" cy="11" r="7"/><path d="m20 20-3.5-3.5"/>`, 18),
  sun: svg(html`<circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/>`),
  moon: svg(html`<path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z"/>`),
  check: svg(html`<path d="M20 6 9 17l-5-5"/>`, 16),
  arrowLeft: svg(html`<path d="M19 12H5M12 19l-7-7 7-7"/>`, 18),
  arrowRight: svg(html`<path d="M5 12h14M12 5l7 7-7 7"/>`, 18),
  close: svg(html`<path d="M18 6 6 18M6 6l12 12"/>`, 18),
};

/** The site's mark: two nodes joined by a line, Ada and Bram. */
export const logo = html`<svg class="logo" width="28" height="28" viewBox="0 0 32 32" aria-hidden="true" focusable="false"><rect x="1" y="1" width="30" height="30" rx="8" fill="var(--brand)"/><circle cx="10" cy="16" r="4" fill="#fff"/><circle cx="22" cy="16" r="4" fill="none" stroke="#fff" stroke-width="2.5"/><path d="M14 16h4" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/></svg>`;
