/**
 * The sandbox's one cleanup stack: every part it starts (moto, the HTTP server, the Stripe
 * simulator, the SQS poller, the Scheduler pump) registers how to stop as soon as it runs, and
 * `run()` stops them newest first, both for `sandbox.stop()` and when starting fails half-way.
 * A stop that fails does not keep the others from running.
 */
export type Stop = () => unknown;

export class Cleanup {
  private readonly stops: Stop[] = [];
  private running: Promise<void> | undefined;

  /** Registers `stop`; it runs before everything registered earlier. */
  add(stop: Stop): void {
    this.stops.push(stop);
  }

  /** Stops everything registered, newest first. A call during a run waits for that run. */
  run(): Promise<void> {
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    for (let stop = this.stops.pop(); stop; stop = this.stops.pop()) {
      try {
        await stop();
      } catch {
        // Stopping goes on with the rest: the sandbox is going away either way.
      }
    }
  }
}
