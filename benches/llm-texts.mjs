// The texts the large-model benchmarks analyse (benches/llm.mjs in Node, benches/llm-chromium.mjs in
// Chromium, where this module is imported by the page): exactly n tokens as the model counts them.

/** Prose for the benchmark texts (no repeated sentence, so no head has an easy copy to make). */
export const PROSE = ('Once upon a time, in a small village at the edge of a great forest, there lived an old clockmaker ' +
  'who spent his days repairing the watches of travellers. Every morning he opened his shop at seven, swept ' +
  'the floor, and listened to the ticking of a hundred clocks. One winter evening a stranger arrived with a ' +
  'broken compass that pointed to nowhere in particular, and asked whether it could be mended before dawn.').split(' ');

/** A text of exactly n tokens for `countTokens` (an LlmExplorer's): the longest prefix of words of
 *  PROSE with at most n tokens, then " a" until it has n. Throws if no such text exists. */
export function textOf(countTokens, n) {
  let text = '';
  for (const word of PROSE) {
    const next = text ? `${text} ${word}` : word;
    if (countTokens(next) > n) break;
    text = next;
  }
  while (countTokens(text) < n) text += ' a';
  if (countTokens(text) !== n) throw new Error(`expected a text of ${n} tokens, found ${countTokens(text)}`);
  return text;
}
