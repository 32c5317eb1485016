// Step `keys`: K = norm(E) · W_K, one matrix per head.
import { vectorStep } from './common.js';

export const id = 'keys';
export const title = 'Keys';
export const math = 'K = norm(E) · W_K';
export const scope = 'head';
export const { explain, render, data } = vectorStep('keys', 'K', 'The key of a token says what it offers to the queries that come looking.');
