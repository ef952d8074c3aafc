/**
 * A child process for the stdio tests, run on the runtime the tests run on. Test-only.
 *
 * - `relay PORT`: connects to 127.0.0.1:PORT and relays it to and from its own `stdio()`,
 *   exiting once the TCP side ended (so the parent sees its stdout end on every runtime).
 * - `stderr TEXT`: spawns a grandchild that writes TEXT to its stderr, and waits for it.
 *
 * @module
 */

import process from "node:process";
import { childCommand, stdioAdapter } from "./_test_stdio_util.ts";

const [mode, arg] = process.argv.slice(2);
const adapter = await stdioAdapter();

if (mode === "relay") {
  const tcp = await adapter.connect({ hostname: "127.0.0.1", port: Number(arg) });
  const io = adapter.stdio();
  void io.readable.pipeTo(tcp.writable).catch(() => {});
  // Whatever arrived before the TCP side ended or failed (a reset after the remote's last
  // frame, say) is still written out: flush stdout instead of aborting it.
  await tcp.readable.pipeTo(io.writable, { preventAbort: true }).catch(() => {});
  await io.writable.close().catch(() => {});
  tcp.close();
  io.close();
  process.exit(0);
} else if (mode === "stderr") {
  const [command, args] = childCommand(["eval", `console.error(${JSON.stringify(arg)})`]);
  const child = await adapter.spawn(command, args);
  const exit = await child.exited;
  process.exit(exit.code ?? 1);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
