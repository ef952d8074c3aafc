// A hang guard for tests: not a timing assertion.

/** Rejects if `p` does not settle within `ms`, naming `what`; else settles as `p` does. */
export function within<T>(p: Promise<T>, ms = 10_000, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
