import assert from 'assert';
import { Backoff } from '../../nodes/lib/common/backoff';
import { numberOr, parseNumber, requireNumber } from '../../nodes/lib/common/numbers';

describe('common: the one number parser and the one backoff', () => {
  it('parseNumber: blank is undefined, junk is NaN, numbers and numeric text are numbers', () => {
    assert.strictEqual(parseNumber(undefined), undefined);
    assert.strictEqual(parseNumber(null), undefined);
    assert.strictEqual(parseNumber('  '), undefined);
    assert.ok(Number.isNaN(parseNumber('12abc')));
    assert.ok(Number.isNaN(parseNumber(Infinity)));
    assert.ok(Number.isNaN(parseNumber({})));
    assert.strictEqual(parseNumber(' 2.5 '), 2.5);
    assert.strictEqual(parseNumber(-3), -3);
  });

  it('numberOr falls back on blank, junk and values outside the limits', () => {
    assert.strictEqual(numberOr('', 7), 7);
    assert.strictEqual(numberOr('x', 7), 7);
    assert.strictEqual(numberOr(-1, 7), 7);
    assert.strictEqual(numberOr(0, 7, { positive: true }), 7);
    assert.strictEqual(numberOr('2.5', 7, { min: 0, integer: true }), 7);
    assert.strictEqual(numberOr('250', 7, { min: 0, integer: true }), 250);
    assert.strictEqual(numberOr(undefined, undefined, { positive: true }), undefined);
  });

  it('requireNumber names the setting and says what is wrong', () => {
    assert.strictEqual(requireNumber('', 'x', 3), 3);
    assert.throws(() => requireNumber('abc', 'rules[0].hi', NaN), /rules\[0\]\.hi must be a finite number \(got "abc"\)/);
    assert.throws(() => requireNumber(0, 'staleMs', NaN, { positive: true }), /staleMs must be > 0/);
    assert.throws(() => requireNumber(-1, 'deadband', NaN, { min: 0 }), /deadband must be >= 0/);
    assert.strictEqual(requireNumber('4', 'n', NaN, { min: 0 }), 4);
  });

  it('Backoff doubles from min to max with equal jitter, and starts over after reset', () => {
    const lo = new Backoff(100, 1000, () => 0);
    assert.deepStrictEqual([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()], [50, 100, 200, 400, 500]);
    assert.strictEqual(lo.attempts, 5);
    lo.reset();
    assert.strictEqual(lo.next(), 50);
    const hi = new Backoff(100, 1000, () => 0.999999);
    assert.deepStrictEqual([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()], [100, 200, 400, 800, 1000]);
  });
});
