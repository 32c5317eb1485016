// Step `values`: V = norm(E) · W_V, one matrix per head.
import { vectorStep } from './common.js';

export const id = 'values';
export const title = 'Values';
export const math = 'V = norm(E) · W_V';
export const scope = 'head';
export const { explain, render, data } = vectorStep('values', 'V', 'The value of a token is what it hands over to the tokens that attend to it; the weights decide how much of it each one receives.');
