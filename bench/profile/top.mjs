/**
 * Where a service's CPU went: `node bench/profile/top.mjs .data/prof/aggregator/<file>` after
 * `npm run bench -- --profile` (one file per thread). Prints self time, idle excluded, per module (a lib, an
 * app, an npm package, a Node internal) and per function.
 */
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/profile/top.mjs <file.cpuprofile> [rows]');
  process.exit(2);
}
const rows = Number(process.argv[3] ?? 20);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
const self = new Map();
profile.samples.forEach((id, i) =>
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
);

const byModule = new Map();
const byFunction = new Map();
let total = 0;
for (const [id, us] of self) {
  const f = nodes.get(id);
  if (f.functionName === '(idle)') continue;
  total += us;
  const url = f.url.replace(/^.*?\/(dist|node_modules)\//, '$1/');
  const module =
    f.url === ''
      ? f.functionName || '(native)'
      : url
          .replace(/^node_modules\/(@[^/]+\/[^/]+|[^/]+).*/, 'npm:$1')
          .replace(/^dist\/(apps|libs)\/([^/]+)\/.*/, '$1/$2');
  const fn = `${f.functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  byModule.set(module, (byModule.get(module) ?? 0) + us);
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}
const print = (title, m) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows))
    console.log(`${((100 * us) / total).toFixed(1).padStart(6)} %  ${k}`);
};
// Node names a profile CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main one.
const thread = /\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1];
const where =
  thread === undefined
    ? ''
    : thread === '0'
      ? ' on the main thread'
      : ` on worker thread ${thread}`;
console.log(`${file}: ${(total / 1e6).toFixed(1)} s of CPU${where}, idle excluded`);
print('by module', byModule);
print('by function', byFunction);
