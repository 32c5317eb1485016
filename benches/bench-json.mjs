// Merges a benchmark's keys into target/bench.json (read-modify-write: each bench owns its keys).
import fs from 'node:fs';
import path from 'node:path';

export function mergeBenchJson(root, out) {
  const file = path.join(root, 'target/bench.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let all = {};
  try { all = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { all = {}; }
  Object.assign(all, out);
  fs.writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
}
