import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURE_PATH, renderDocument, renderTables } from '../../scripts/docs/state-table.js';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(p);
    return /\.(ts|js|cjs|mjs)$/.test(name) ? [p] : [];
  });
}

describe('docs/architecture.md', () => {
  it('holds the state tables that `npm run docs` generates from the state machine (run it after changing a rule)', () => {
    const doc = readFileSync(ARCHITECTURE_PATH, 'utf8');
    expect(doc).toBe(renderDocument(doc));
  });

  it('decides every row for both APIs: PaymentIntents orders never become chargeable', () => {
    const tables = renderTables();
    expect(tables).toContain('#### PaymentIntents orders');
    expect(tables).toContain('#### Sources orders');
    expect(tables).toMatch(/`payment_intent\.succeeded` \| \*\*paid\*\*/);
    expect(tables).toMatch(/`source\.chargeable` \| \*\*chargeable\*\* \+ charge/);
  });

  it('is what code comments cite: no comment points at a design document outside the repository', () => {
    const offenders: string[] = [];
    for (const dir of ['lambdas', 'lib', 'scripts', 'test']) {
      for (const f of sourceFiles(join(ROOT, dir))) {
        const text = readFileSync(f, 'utf8');
        const rel = f.slice(ROOT.length + 1);
        // The one exception: the test that keeps scripts/stripe-sim/spec/ equal to the reference data
        // it was copied from, where that folder exists beside the repository.
        if (rel === 'test/unit/stripe-spec-copy.test.ts') continue;
        if (/DESIGN\.md|\.\.\/shared\//.test(text)) offenders.push(rel);
      }
    }
    expect(offenders).toEqual([]);
    expect(existsSync(ARCHITECTURE_PATH)).toBe(true);
  });
});
