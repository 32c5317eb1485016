// The tour: the stops in the order the notes tell the story (issue 11), numbered from 1 in the URL (#tour=N)
// and in the element's `stop` attribute.
import { lookup, position, queries, keys, softmax, heads } from './stops.js';
import { distance, update, stack, predict, training } from './stops-more.js';

export const TOUR = [lookup, position, queries, keys, softmax, heads, distance, update, stack, predict, training];

/** The stop numbered n (1-based, clamped to the tour). */
export const stopAt = (n) => TOUR[Math.min(TOUR.length, Math.max(1, n)) - 1];

/** A stop's step for this model (a step may depend on the model, e.g. rotate only with rotary positions). */
export const stepOf = (stop, info) => (typeof stop.step === 'function' ? stop.step(info) : stop.step);
