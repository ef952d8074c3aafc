// This module is browser compatible.
// How a Hub hooks into the topics it made (internal): a topic tells its hub about joins and
// leaves, and hands it each frame to publish to the other servers.

import type { Peer } from "../peer/peer.ts";

/** What a hub's topic calls. */
export interface TopicLink {
  /** Publishes `frame` to the other servers (throws if the backplane refuses it). */
  publish(frame: Uint8Array): void;
  /** `peer` joined (`true`) or left the topic. */
  changed(peer: Peer, joined: boolean): void;
}

const links = new WeakMap<object, TopicLink>();

/** Links `topic` to its hub. */
export function linkTopic(topic: object, link: TopicLink): void {
  links.set(topic, link);
}

/** The hub link of `topic`, if it belongs to a hub. */
export function topicLink(topic: object): TopicLink | undefined {
  return links.get(topic);
}
