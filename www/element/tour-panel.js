// The tour's panel above the view: which stop this is (with a button per stop), the question to answer
// before the answer is shown, the choices, the answer with its caption (a live region, so a screen reader
// hears it), a small figure where the stop has one, and the switch between the stop's sentence and the
// student's own. Built once by buildFrame; updateTourPanel(el) fills it for the element's stop and trace.

import { h, heatStrips } from '../draw.js';
import { TOUR } from '../tour/index.js';
import { currentStop, lessonOf, revealed } from './modes.js';
import { withTerms } from './glossary.js';

/** The panel's elements, in `b` (the frame's parts); returns the panel. */
export function buildTourPanel(el, b) {
  b.tourTitle = h('h2', { id: 'ae-tour-title', class: 'tour-title' });
  b.tourPrev = h('button', { type: 'button', class: 'tour-prev', 'aria-label': 'previous stop', text: '←', on: { click: () => el.previous() } });
  b.tourNext = h('button', { type: 'button', class: 'tour-next', 'aria-label': 'next stop', text: '→', on: { click: () => el.next() } });
  b.tourDots = h('ol', { class: 'tour-dots', 'aria-label': 'tour stops' }, TOUR.map((stop, i) => h('li', {},
    h('button', { type: 'button', 'data-stop': i + 1, 'aria-label': `stop ${i + 1}: ${stop.title}`, title: stop.title, text: `${i + 1}`, on: { click: () => { el.stop = i + 1; } } }))));
  b.tourQuestion = h('p', { class: 'tour-question' });
  b.tourChoices = h('div', { class: 'tour-choices', role: 'group', 'aria-label': 'your guess' });
  b.tourReveal = h('button', { type: 'button', class: 'tour-reveal', text: 'Just show me', on: { click: () => reveal(el, null) } });
  b.tourVeil = h('p', { class: 'veil-note', text: 'The real numbers below appear when you answer.' });
  b.tourAnswer = h('div', { class: 'tour-answer', role: 'status', 'aria-live': 'polite', tabindex: -1 });
  b.tourExhibit = h('div', { class: 'tour-exhibit' });
  b.tourSentence = h('p', { class: 'tour-sentence' });
  return h('section', { class: 'ae-tour', 'aria-labelledby': 'ae-tour-title' },
    h('div', { class: 'tour-head' }, b.tourPrev, b.tourTitle, b.tourNext, b.tourDots),
    b.tourQuestion, h('div', { class: 'tour-act' }, b.tourChoices, b.tourReveal), b.tourVeil, b.tourAnswer, b.tourExhibit, b.tourSentence);
}

function reveal(el, choice) {
  el._tour.guess = choice;
  el._tour.revealed = true;
  el._changed(false);
  // the answer replaces the choices: keep the keyboard where the answer is
  queueMicrotask(() => el._built && el._built.tourAnswer.focus());
}

/** Fills the panel for the current stop and its lesson (el._lesson, computed by the render). */
export function updateTourPanel(el) {
  const b = el._built;
  if (!b.tour) return;
  b.tour.hidden = el.mode !== 'tour';
  if (el.mode !== 'tour') return;
  const n = el.stop, stop = currentStop(el), lesson = el._lesson ?? lessonOf(el);
  b.tourTitle.textContent = `Stop ${n} of ${TOUR.length}: ${stop.title}`;
  b.tourPrev.disabled = n <= 1;
  b.tourNext.disabled = n >= TOUR.length;
  for (const btn of b.tourDots.querySelectorAll('button')) {
    if (Number(btn.dataset.stop) === n) btn.setAttribute('aria-current', 'step'); else btn.removeAttribute('aria-current');
  }
  const shown = revealed(el);
  if (!lesson || lesson.missing) {
    b.tourQuestion.textContent = lesson ? `This stop does not work on this sentence: ${lesson.missing}.` : 'This sentence cannot be analysed.';
    b.tourChoices.replaceChildren();
    b.tourReveal.hidden = true;
    b.tourVeil.hidden = true;
    b.tourAnswer.replaceChildren();
    b.tourExhibit.replaceChildren();
  } else {
    const seen = new Set();
    b.tourQuestion.replaceChildren(h('strong', { text: shown ? 'The question: ' : 'Predict first: ' }), ...withTerms(lesson.question, seen));
    b.tourChoices.replaceChildren(...lesson.choices.map((c, i) => choiceButton(el, c, i, lesson, shown)));
    b.tourReveal.hidden = shown;
    b.tourVeil.hidden = shown;
    b.tourAnswer.replaceChildren(...(shown ? answerOf(el, lesson, seen) : []));
    b.tourExhibit.replaceChildren(...(shown && lesson.exhibit ? [heatStrips({ m: lesson.exhibit.m, labels: lesson.exhibit.labels, caption: lesson.exhibit.title, title: lesson.exhibit.title })] : []));
  }
  updateSentence(el, stop);
}

function choiceButton(el, label, i, lesson, shown) {
  const guess = el._tour.guess;
  const cls = ['tour-choice', shown && i === lesson.answer ? 'right' : null, shown && i === guess && guess !== lesson.answer ? 'wrong' : null];
  return h('button', { type: 'button', class: cls, 'aria-pressed': String(shown && guess === i), disabled: shown, text: label,
    on: { click: () => reveal(el, i) } });
}

/** The feedback on the guess, then the caption read from the trace. */
function answerOf(el, lesson, seen) {
  const guess = el._tour.guess, right = lesson.choices[lesson.answer];
  const verdict = guess === null ? `The answer: ${right}.` : guess === lesson.answer ? `Right: ${right}.` : `Not quite: you said ${lesson.choices[guess]}; the model says ${right}.`;
  return [h('p', { class: 'tour-verdict' }, h('strong', { text: verdict })), h('p', { class: 'tour-caption' }, withTerms(lesson.caption, seen))];
}

/** The stop's own sentence, or the student's: a button to switch. */
function updateSentence(el, stop) {
  const b = el._built;
  const own = el.text === stop.text;
  const user = el._tour.userText;
  const button = own
    ? (user && user !== stop.text ? h('button', { type: 'button', class: 'tour-mine', text: 'Try it on my sentence', on: { click: () => { el.text = user; } } }) : null)
    : h('button', { type: 'button', class: 'tour-theirs', text: 'Back to this stop’s sentence', on: { click: () => { el.text = stop.text; } } });
  b.tourSentence.replaceChildren(h('span', { class: 'muted', text: own ? 'This stop’s sentence is in the box above; type your own to try the stop on it. ' : 'The stop is reading your sentence. ' }), button ?? '');
}
