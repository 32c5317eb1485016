// What the page says about heads comes from the model's measured head profile (info().heads, shipped as
// model/heads.json and checked by the engine), never from hand-written text: a head's name ("previous
// token", "induction", "start/resting", …), its numbers, the rules that gave the name, and which head (if
// any) an auxiliary loss trained. A model without a profile has no names; the page then says so.

/** The profile's list of heads ({ layer, head, name, prev, self, start, duplicate, induction, mean_distance }), or []. */
export function headList(info) {
  const p = info && info.heads;
  if (!p) return [];
  return Array.isArray(p) ? p : Array.isArray(p.heads) ? p.heads : [];
}

/** The profile entry of head `head` of layer `layer`, or null. */
export function headInfo(info, layer, head) {
  return headList(info).find((x) => x.layer === layer && x.head === head) ?? null;
}

/** The measured name of a head ("induction"), or null when the model ships no profile. */
export function headName(info, layer, head) {
  return headInfo(info, layer, head)?.name ?? null;
}

/** The head an auxiliary loss trained, `{ layer, head, target }`, or null. */
export function auxTrained(info) {
  const p = info && info.heads;
  return (p && !Array.isArray(p) && p.trained_by_auxiliary_loss) || null;
}

/** The rule that gives `name` its name ("≥ 0.6 of its weight on token i−1"), or null. */
export function ruleFor(info, name) {
  const p = info && info.heads;
  const rules = (p && !Array.isArray(p) && p.rules) || [];
  return rules.find((r) => r.name === name)?.when ?? null;
}

/** Which profile number measures a name best (the one its rule is about), for ranking heads of that name. */
const MEASURE = { 'previous token': 'prev', induction: 'induction', 'start/resting': 'start', 'duplicate token': 'duplicate', self: 'self' };

/** The heads named `name`, the most typical first (by the number its rule is about). */
export function headsNamed(info, name) {
  const key = MEASURE[name];
  return headList(info).filter((x) => x.name === name).sort((a, b) => (key ? b[key] - a[key] : 0));
}

/** "head 1 of layer 2" (1-based, as the page counts). */
export const headWords = (layer, head, nLayers = 2) => `head ${head + 1}${nLayers > 1 ? ` of layer ${layer + 1}` : ''}`;

/** The disclosure for a head trained by an auxiliary loss, or '' for any other head. */
export function auxNote(info, layer, head) {
  const a = auxTrained(info);
  if (!a || a.layer !== layer || a.head !== head) return '';
  return `this head was trained to look at the ${a.target} (by an auxiliary loss), so its pattern is partly by design`;
}

/** A head's label for pickers: "head 1 · previous token" (or just "head 1" without a profile). */
export function headLabel(info, layer, head) {
  const name = headName(info, layer, head);
  return name ? `head ${head + 1} · ${name}` : `head ${head + 1}`;
}
