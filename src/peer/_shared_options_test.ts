// The resolved options that the peers of one options object share: the same while the object
// holds the same, fresh once it changed (a value, an interceptor list changed in place).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Interceptor } from "./middleware.ts";
import { NO_OPTIONS, sharedOptions } from "./_shared_options.ts";

describe("sharedOptions", () => {
  test("one options object, unchanged: one resolved set", () => {
    const options = { maxRetries: 1, logger: null };
    const a = sharedOptions(options);
    assert.equal(sharedOptions(options), a);
    assert.equal(a.maxRetries, 1);
    assert.equal(sharedOptions(NO_OPTIONS), sharedOptions(NO_OPTIONS));
  });

  test("a changed value, an added property, a list changed in place: resolved afresh", () => {
    const pass: Interceptor = (_call, next) => next();
    const options: { maxRetries: number; interceptors: Interceptor[]; readTimeoutMs?: number } = {
      maxRetries: 1,
      interceptors: [pass],
    };
    const a = sharedOptions(options);
    options.maxRetries = 2;
    const b = sharedOptions(options);
    assert.notEqual(b, a);
    assert.equal(b.maxRetries, 2);
    options.readTimeoutMs = 50;
    const c = sharedOptions(options);
    assert.equal(c.readTimeoutMs, 50);
    options.interceptors.push(pass);
    const d = sharedOptions(options);
    assert.notEqual(d, c);
    assert.equal(d.interceptors?.length, 2);
    assert.equal(sharedOptions(options), d);
  });

  test("an invalid value throws every time; options with a prototype are resolved each time", () => {
    const bad = { maxRetries: -1 };
    assert.throws(() => sharedOptions(bad), RangeError);
    assert.throws(() => sharedOptions(bad), RangeError);
    const inherited = Object.create({ maxRetries: 4 });
    const a = sharedOptions(inherited);
    assert.equal(a.maxRetries, 4);
    assert.notEqual(sharedOptions(inherited), a);
  });
});
