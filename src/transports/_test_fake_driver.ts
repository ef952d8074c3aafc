// A fake push driver for the duplex's tests: it records every call.
import { ConnectionClosedError } from "../peer/errors.ts";
import { type Pending, pending } from "./_duplex.ts";

/** A push driver that records every call; writes wait while `blockWrites` is set. */
export class FakePush {
  readonly log: string[] = [];
  /** The transport's error, as a driver reads it from its duplex. */
  error: Error | undefined;
  blockWrites = false;
  waiting: Pending | undefined;
  write(chunk: Uint8Array): void | Promise<void> {
    this.log.push(`write ${chunk.byteLength}`);
    if (!this.blockWrites) return;
    this.waiting = pending();
    return this.waiting.promise;
  }
  end(): void {
    this.log.push("end");
  }
  destroy(): void {
    this.log.push("destroy");
    // As drivers must: a pending write rejects with the transport's error.
    this.waiting?.reject(this.error ?? new ConnectionClosedError("The connection was closed"));
    this.waiting = undefined;
  }
  pause(): void {
    this.log.push("pause");
  }
  resume(): void {
    this.log.push("resume");
  }
}

/** Lets the streams' and promises' queued reactions run. */
export const settle = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 0));
