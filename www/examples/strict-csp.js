// Shows, on the page, every Content-Security-Policy violation (there should be none).
const report = document.getElementById('csp-report');
const seen = [];
document.addEventListener('securitypolicyviolation', (e) => {
  seen.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}${e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : ''}`);
  report.textContent = `${seen.length} policy violation${seen.length > 1 ? 's' : ''}: ${seen.join('; ')}`;
  report.classList.add('bad');
});
const explorer = document.querySelector('attention-explorer');
customElements.whenDefined('attention-explorer').then(() => explorer.ready).then((ok) => {
  if (ok && !seen.length) {
    report.textContent = 'The widget is running, and the policy has reported no violations.';
    report.classList.add('good');
  }
});
