// The peer behaviour suite over real sockets: this runtime's native TCP adapter, TLS, and (on
// Deno and Bun) the node:net adapter too. The pipe run is in src/peer/peer_test.ts.
import { peerSuite } from "../peer/_test_suite.ts";
import { factories } from "./_test_factories.ts";

for (const factory of await factories()) {
  if (factory.name !== "pipe") peerSuite(factory);
}
