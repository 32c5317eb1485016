// The steps in DESIGN.md's order; the same ids name the step everywhere (trace, URL, attribute, CSS).
// What the element knows about a step comes from its module's own exports (id, title, math, scope,
// tokenPairs, …; see common.js), never from a list kept here.
import * as tokens from './tokens.js';
import * as embed from './embed.js';
import * as queries from './queries.js';
import * as keys from './keys.js';
import * as scores from './scores.js';
import * as scaled from './scaled.js';
import * as masked from './masked.js';
import * as weights from './weights.js';
import * as values from './values.js';
import * as mix from './mix.js';
import * as delta from './delta.js';
import * as update from './update.js';
import * as predict from './predict.js';

export const STEPS = [tokens, embed, queries, keys, scores, scaled, masked, weights, values, mix, delta, update, predict];
export const STEP_IDS = STEPS.map((m) => m.id);
export const stepById = (id) => STEPS.find((m) => m.id === id);
/** Is `id` a T×T step (scores, scaled, masked, weights: its module exports `tokenPairs = true`)? */
export const isTokenPairs = (id) => stepById(id)?.tokenPairs === true;
