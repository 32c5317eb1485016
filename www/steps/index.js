// The steps in ARCHITECTURE.md's order; the same ids name the step everywhere (trace, URL, attribute, CSS).
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
