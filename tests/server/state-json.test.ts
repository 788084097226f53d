import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stateJson } from '../../server/application/state-json.js';
import { historyArb, runHistory } from '../domain/arbitraries.js';
import { Scenario } from '../domain/helpers.js';

describe('a snapshot text made in slices', () => {
  it('is exactly JSON.stringify of the state, for any history', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, async (steps) => {
        const { s } = runHistory(steps);
        expect(await stateJson(s.state)).toBe(JSON.stringify(s.state));
      }),
      { numRuns: 200 },
    );
  });

  it('leaves the event loop free while a long room is written, and is still exact', async () => {
    const s = Scenario.created();
    for (let i = 0; i < 20_000; i++)
      s.run(i % 2 ? 'client' : 'freelancer', { type: 'message.post', text: `message ${i}`, fileIds: [] });
    let othersRan = 0;
    const other = setInterval(() => othersRan++, 0);
    const text = await stateJson(s.state);
    clearInterval(other);
    expect(text).toBe(JSON.stringify(s.state));
    expect(othersRan).toBeGreaterThan(0);
  });
});
