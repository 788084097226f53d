import v8 from 'node:v8';
import { z } from 'zod';

/**
 * HEAP_GROWING_PERCENT: how far a JavaScript heap may grow past its live size before V8 collects
 * it in full. The server and the standalone store both read it.
 */
const MAX_PERCENT = 1000;
export const heapGrowingPercent = z.coerce.number().int().min(0).max(MAX_PERCENT).default(200);

/** The setting read from the environment on its own (the standalone store), or an error naming it. */
export function heapGrowingPercentFrom(raw: string | undefined): number {
  const parsed = heapGrowingPercent.safeParse(raw);
  if (!parsed.success)
    throw new Error(`HEAP_GROWING_PERCENT is not a whole number from 0 to ${MAX_PERCENT}: ${raw ?? ''}`);
  return parsed.data;
}

/**
 * Under load each full collection is a stall of tens of milliseconds (more with the marking on a
 * busy machine); a heap allowed to grow further between them has fewer (docs/performance.md).
 * Applies to this thread's heap and to those of threads started after it; 0 leaves V8's choice.
 */
export function setHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
