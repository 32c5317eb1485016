// Step `queries`: Q = norm(E) · W_Q, one matrix per head.
import { vectorStep } from './common.js';

export const id = 'queries';
export const title = 'Queries';
export const math = 'Q = norm(E) · W_Q';
export const scope = 'head';
export const { explain, render, data } = vectorStep('queries', 'Q', 'The query of a token says what it is looking for in the tokens before it.');
