// What a test needs from the machine (Mosquitto, Chromium, openssl, a built file). Locally a
// missing prerequisite skips with its reason printed; under CI=true it fails the test with that
// reason, so a suite can never pass by skipping what it was meant to prove.

const inCi = (): boolean => !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

function missing(reason: string): Error {
  return new Error(`prerequisite missing: ${reason} (CI=true turns a skip into this failure)`);
}

/** In a hook or test: nothing when ok; else fails under CI, or prints the reason and skips. */
export function requirePrereq(ctx: Mocha.Context, ok: unknown, reason: string): void {
  if (ok) return;
  if (inCi()) throw missing(reason);
  process.stdout.write(`      (skipped: ${reason})\n`);
  ctx.skip();
}

/** `describe` when ok; else a suite that fails under CI, or is skipped with the reason printed. */
export function describeIf(ok: unknown, reason: string): (title: string, fn: (this: Mocha.Suite) => void) => void {
  if (ok) return (title, fn) => describe(title, fn);
  return (title, fn) =>
    describe(title, function () {
      before(function () {
        requirePrereq(this, false, reason);
      });
      fn.call(this);
    });
}

/** `it` when ok; else a test that fails under CI, or is skipped with the reason printed. */
export function itIf(ok: unknown, reason: string): (title: string, fn: (this: Mocha.Context) => Promise<unknown> | void) => void {
  if (ok) return (title, fn) => it(title, fn);
  return (title) =>
    it(title, function () {
      requirePrereq(this, false, reason);
    });
}
