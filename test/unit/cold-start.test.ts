import { describe, expect, it } from 'vitest';
import { oncePerColdStart } from '../../lambdas/handlers/cold-start.js';

describe('oncePerColdStart', () => {
  it('builds once and shares the result, also with concurrent first calls', async () => {
    let builds = 0;
    const get = oncePerColdStart(async () => ({ n: ++builds }));
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toBe(b);
    expect(await get()).toBe(a);
    expect(builds).toBe(1);
  });

  it('does not keep a failure: the next call builds again', async () => {
    let calls = 0;
    const get = oncePerColdStart(async () => {
      calls += 1;
      if (calls === 1) throw new Error('secret not filled in');
      return 'ready';
    });
    await expect(get()).rejects.toThrow('secret not filled in');
    expect(await get()).toBe('ready');
    expect(calls).toBe(2);
  });
});
