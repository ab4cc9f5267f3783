// Runs before the page paints: the remembered theme, else the system's, so a page never flashes the wrong one.
(function () {
  var theme = null;
  try { theme = localStorage.getItem('workbook-theme'); } catch (e) { /* storage may be off */ }
  if (theme !== 'dark' && theme !== 'light') {
    theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }
  document.documentElement.setAttribute('data-theme', theme);
})();
