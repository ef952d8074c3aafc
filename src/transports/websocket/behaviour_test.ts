// The whole peer behaviour suite over WebSocket: this runtime's server adapter and its client.
import { peerSuite } from "../../peer/_test_suite.ts";
import { wsFactories } from "./_test_factories.ts";

for (const factory of await wsFactories()) peerSuite(factory);
