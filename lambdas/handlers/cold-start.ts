/**
 * Builds a function's dependencies once per execution environment (cold start) and shares them
 * with every later invocation. A failed build is not kept, so the next invocation tries again
 * (for example once the Stripe secret has been filled in).
 */
export function oncePerColdStart<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}
