// The host's side of iframe mode: size each explorer frame to the height it reports.
// Messages are accepted only from the frame itself (event.source) and from the frame's origin.
const frame = document.getElementById('explorer-frame');
const status = document.getElementById('frame-status');
const origin = new URL(frame.src, location.href).origin;

window.addEventListener('message', (e) => {
  if (e.source !== frame.contentWindow || e.origin !== origin) return;
  const d = e.data;
  if (d && d.type === 'attention-explorer:height' && Number.isFinite(d.height) && d.height > 0) {
    frame.style.height = `${d.height}px`; // CSSOM, not a style attribute: fine under a strict CSP
    status.textContent = `The frame reported a height of ${d.height} px.`;
  } else if (d && d.type === 'attention-explorer:change') {
    status.textContent = `The reader moved to step “${d.state.step}”, head ${d.state.head + 1}.`;
  }
});
