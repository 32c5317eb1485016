// A minimal reveal.js-like deck: one <section> visible at a time, ←/→/space/PageUp/PageDown, #/n in the URL.
// Keys pressed inside an <attention-explorer> belong to the widget (its own ←/→ step through attention).
const slides = [...document.querySelectorAll('.reveal .slides > section')];
const progress = document.querySelector('.reveal .progress');
let current = -1;

function show(i) {
  const next = Math.max(0, Math.min(slides.length - 1, i));
  if (next === current) return;
  current = next;
  slides.forEach((s, k) => {
    s.classList.toggle('present', k === current);
    s.classList.toggle('past', k < current);
    s.classList.toggle('future', k > current);
    s.inert = k !== current;
  });
  progress.textContent = `${current + 1} / ${slides.length}`;
  const hash = `#/${current}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.composedPath().some((n) => n instanceof Element && n.localName === 'attention-explorer')) return;
  if (['ArrowRight', 'PageDown', ' '].includes(e.key)) { e.preventDefault(); show(current + 1); }
  if (['ArrowLeft', 'PageUp'].includes(e.key)) { e.preventDefault(); show(current - 1); }
  if (e.key === 'Home') show(0);
  if (e.key === 'End') show(slides.length - 1);
});
document.querySelector('.reveal .navigate-left').addEventListener('click', () => show(current - 1));
document.querySelector('.reveal .navigate-right').addEventListener('click', () => show(current + 1));
window.addEventListener('hashchange', () => show(Number(/^#\/(\d+)$/.exec(location.hash)?.[1] ?? 0)));
show(Number(/^#\/(\d+)$/.exec(location.hash)?.[1] ?? 0));
