// The JavaScript each page loads first (gzip), from the Vite manifest of the last build:
// the entry's static imports, plus the lazily loaded layout and page with theirs.
// Usage: node scripts/bundle-report.mjs [--budget-kb 700]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'));
const budgetArg = process.argv.indexOf('--budget-kb');
const budget = budgetArg > 0 ? Number(process.argv[budgetArg + 1]) : null;

function closure(keys) {
  const seen = new Set();
  const visit = (k) => {
    if (seen.has(k)) return;
    seen.add(k);
    for (const i of manifest[k].imports ?? []) visit(i);
  };
  keys.forEach(visit);
  return [...seen].map((k) => manifest[k].file).filter((f) => f.endsWith('.js'));
}

const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;

const pages = {
  login: ['src/pages/Login.tsx'],
  explore: ['src/layout/AppLayout.tsx', 'src/pages/explore/ExplorePage.tsx'],
  tail: ['src/layout/AppLayout.tsx', 'src/pages/tail/TailPage.tsx'],
};
let failed = false;
for (const [page, lazy] of Object.entries(pages)) {
  const files = closure(['index.html', ...lazy]);
  const sizes = files.map((f) => [f, gz(f)]).sort((a, b) => b[1] - a[1]);
  const total = sizes.reduce((n, [, s]) => n + s, 0);
  console.log(`${page}: ${(total / 1024).toFixed(1)} KiB gzip in ${files.length} files`);
  for (const [f, s] of sizes) console.log(`  ${(s / 1024).toFixed(1).padStart(7)} KiB  ${f}`);
  if (budget !== null && page === 'explore' && total / 1024 > budget) failed = true;
}
if (failed) {
  console.error(`explore: over the budget of ${budget} KiB`);
  process.exit(1);
}
