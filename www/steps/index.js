// The steps in ARCHITECTURE.md's order; the same ids name the step everywhere (trace, URL, attribute, CSS).
// STEP_IDS is every step any model can have; stepIdsFor(model) the ones a given model has. What the
// element knows about a step comes from its module's own exports (id, title, math, scope, tokenPairs,
// offered, …; see common.js), never from a list kept here.
import * as tokens from './tokens.js';
import * as embed from './embed.js';
import * as queries from './queries.js';
import * as keys from './keys.js';
import * as rotate from './rotate.js';
import * as scores from './scores.js';
import * as scaled from './scaled.js';
import * as masked from './masked.js';
import * as weights from './weights.js';
import * as values from './values.js';
import * as mix from './mix.js';
import * as delta from './delta.js';
import * as update from './update.js';
import * as predict from './predict.js';

export const STEPS = [tokens, embed, queries, keys, rotate, scores, scaled, masked, weights, values, mix, delta, update, predict];
export const STEP_IDS = STEPS.map((m) => m.id);
export const stepById = (id) => STEPS.find((m) => m.id === id);
/** The step ids a model has (`model`: its info or a trace, `{ config }`; null before one is loaded):
 * a step with `offered(model)`, such as `rotate`, only where that holds. */
export const stepIdsFor = (model) => STEPS.filter((m) => !m.offered || (model && m.offered(model))).map((m) => m.id);
/** A step's formula: its `math` string, or `math(model)` where the formula depends on the model. */
export const mathOf = (m, model) => (typeof m.math === 'function' ? m.math(model) : m.math);
/** Is `id` a T×T step (scores, scaled, masked, weights: its module exports `tokenPairs = true`)? */
export const isTokenPairs = (id) => stepById(id)?.tokenPairs === true;
