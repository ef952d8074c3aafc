// Mutation fuzzing of the decoder: seeded and counted (GOTALK_FUZZ_SEED, GOTALK_FUZZ_INPUTS; see
// _test_fuzz.ts), so every run on every runtime decodes the same inputs.
//
// Properties, for every input, decoded whole and again in random chunks:
// - the decoder throws nothing but a ProtocolError (code 1 or 2, offset within the input);
// - no payload it emits exceeds maxPayloadBytes and no name exceeds maxNameBytes (a declared
//   length over a limit is an error at the header, before anything is allocated for it);
// - how the input is chunked changes nothing: the same messages, then the same error.
//
// A failure prints the run's seed, the input's index and its hex. To keep it as a regression, add
// `{ hex, options, note }` to `regressions` below (it is replayed on every run, before the random
// inputs), or turn it into a spec vector in conformance/vectors/ when the expected outcome is
// worth stating for every implementation.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MessageDecoder, type MessageDecoderOptions } from "./decoder.ts";
import { ProtocolError } from "./errors.ts";
import type { Message } from "./message.ts";
import { bytesOf, loadVectors } from "./_test_vectors.ts";
import {
  fromHex,
  fuzzInput,
  fuzzInputs,
  fuzzSeed,
  inputSeed,
  randomChunks,
  Rng,
  toHex,
} from "./_test_fuzz.ts";

/** Inputs that once failed (or that the fuzzer found interesting), replayed on every run. */
const regressions: Array<{ hex: string; options: MessageDecoderOptions; note: string }> = [
  // The shapes of findings the fuzzer looks for, kept so that they are always tried:
  { hex: toHex(bytesOf("r0001fff")), options: {}, note: "name length 4095, header cut" },
  { hex: toHex(bytesOf("R0001ffffffff")), options: {}, note: "declared 4 GiB payload" },
  {
    hex: toHex(bytesOf("01R000100000005ab")),
    options: { handshake: true, maxPayloadBytes: 4 },
    note: "size one over a low limit",
  },
  { hex: toHex(bytesOf("r0001+01x00000000")), options: {}, note: "sign in a name length" },
];

const LIMITS: MessageDecoderOptions[] = [
  {},
  { maxPayloadBytes: 16 },
  { maxPayloadBytes: 0 },
  { maxPayloadBytes: 1024, maxNameBytes: 8 },
];

interface Outcome {
  messages: string[];
  error?: { code: number; offset: number | undefined };
}

/** Decodes `chunks`, checking the limits on every message; rethrows anything not a ProtocolError. */
function decode(chunks: Uint8Array[], options: MessageDecoderOptions, length: number): Outcome {
  const maxPayload = options.maxPayloadBytes ?? 16 * 1024 * 1024;
  const maxName = options.maxNameBytes ?? 4095;
  const d = new MessageDecoder(options);
  const messages: string[] = [];
  const emit = (m: Message) => {
    if ("payload" in m && m.payload.length > maxPayload) {
      throw new Error(`A payload of ${m.payload.length} bytes passed the limit ${maxPayload}`);
    }
    // Each wire byte decodes to at most one UTF-16 unit (invalid UTF-8 becomes U+FFFD).
    if ("name" in m && m.name.length > maxName) {
      throw new Error(`A name of ${m.name.length} units passed the limit ${maxName}`);
    }
    messages.push(show(m));
  };
  try {
    for (const c of chunks) d.push(c, emit);
    d.end();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    if (e.code !== 1 && e.code !== 2) throw new Error(`ProtocolError with code ${e.code}`);
    const offset = e.offset;
    if (offset === undefined || !(offset >= 0 && offset <= length)) {
      throw new Error(`ProtocolError offset ${offset} outside the input of ${length} bytes`);
    }
    return { messages, error: { code: e.code, offset } };
  }
  return { messages };
}

const latin1 = new TextDecoder("latin1");

function show(m: Message): string {
  return JSON.stringify("payload" in m ? { ...m, payload: latin1.decode(m.payload) } : m);
}

/** Checks the properties for one input; throws with everything needed to replay it. */
function check(input: Uint8Array, options: MessageDecoderOptions, rng: Rng, label: string): void {
  try {
    const whole = decode([input], options, input.length);
    const chunked = decode(randomChunks(rng, input), options, input.length);
    assert.deepEqual(chunked, whole, "chunking changed the outcome");
  } catch (e) {
    throw new Error(
      `Decoder fuzz failure (${label}, options ${JSON.stringify(options)}): ${
        e instanceof Error ? e.message : e
      }\ninput hex: ${toHex(input)}\n` +
        "add it to `regressions` in src/protocol/fuzz_test.ts to keep it",
      { cause: e },
    );
  }
}

describe("decoder fuzz", () => {
  test("regressions", () => {
    const rng = new Rng(1);
    for (const r of regressions) {
      for (let k = 0; k < 8; k++) check(fromHex(r.hex), r.options, rng, `regression: ${r.note}`);
    }
  });

  test("mutated inputs: only ProtocolErrors, limits hold, chunking changes nothing", () => {
    const seed = fuzzSeed();
    const inputs = fuzzInputs(100_000);
    // The spec vectors (short ones) start the corpus; generated frames do the rest.
    const corpus = loadVectors().map((v) => bytesOf(v.input)).filter((b) => b.length <= 4096);
    const t0 = performance.now();
    let errors = 0;
    let messages = 0;
    for (let i = 0; i < inputs; i++) {
      const rng = new Rng(inputSeed(seed, i));
      const handshake = rng.chance(0.2);
      const options = { ...rng.pick(LIMITS), handshake };
      const input = fuzzInput(rng, corpus, { handshake });
      const label = `GOTALK_FUZZ_SEED=${seed} input ${i}`;
      check(input, options, rng, label);
      // Counted from a third decode only every 64th input: it is a figure, not a property.
      if (i % 64 === 0) {
        const o = decode([input], options, input.length);
        messages += o.messages.length;
        if (o.error) errors++;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    // A figure for the CI log: inputs, seed and time (never asserted).
    // deno-lint-ignore no-console
    console.log(
      `decoder fuzz: ${inputs} inputs (seed ${seed}) in ${seconds.toFixed(1)} s; of a sample of ` +
        `${Math.ceil(inputs / 64)}: ${errors} ended in a ProtocolError, ${messages} messages`,
    );
    assert.ok(errors > 0, "no input ended in a ProtocolError: the mutators do nothing");
    assert.ok(messages > 0, "no input decoded to a message: the corpus is broken");
  });
});
