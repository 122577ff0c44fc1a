/**
 * Records the events an `EventTarget` dispatches (the chat client's), so
 * that tests can wait on an event instead of sleeping, and check what came
 * and in which order. It imports nothing of the client: the event map is a
 * type parameter.
 *
 * @module
 */

/** The detail type of a `CustomEvent` type. */
export type DetailOf<E> = E extends CustomEvent<infer D> ? D : never;

/** One recorded event: its type and its detail. */
export interface Recorded {
  readonly type: string;
  readonly detail: unknown;
}

/**
 * Listens to `types` on `target` from construction until disposal, keeping
 * each event's detail. `Events` is the target's event map (type → event).
 */
export class EventLog<Events extends { [K in keyof Events]: Event }>
  implements Disposable {
  /** Every recorded event, in dispatch order. */
  readonly all: Recorded[] = [];
  readonly #target: EventTarget;
  readonly #types: readonly string[];
  #more = Promise.withResolvers<void>();
  readonly #listener: EventListener = (event) => {
    this.all.push({
      type: event.type,
      detail: event instanceof CustomEvent ? event.detail : undefined,
    });
    this.#more.resolve();
    this.#more = Promise.withResolvers<void>();
  };

  constructor(target: EventTarget, types: readonly (keyof Events & string)[]) {
    this.#target = target;
    this.#types = types;
    for (const type of types) target.addEventListener(type, this.#listener);
  }

  /** The details of every `type` event so far, in order. */
  of<K extends keyof Events & string>(type: K): DetailOf<Events[K]>[] {
    // The listener recorded each `type` event's own detail.
    return this.all.filter((event) => event.type === type).map((event) =>
      event.detail as DetailOf<Events[K]>
    );
  }

  /**
   * Waits until `count` `type` events whose detail satisfies `accept` have
   * been dispatched (those before the call included); returns them. Fails
   * after `timeoutMs`, saying what came instead.
   */
  async waitFor<K extends keyof Events & string>(
    type: K,
    accept: (detail: DetailOf<Events[K]>) => boolean = () => true,
    count = 1,
    timeoutMs = 10_000,
  ): Promise<DetailOf<Events[K]>[]> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const matching = this.of(type).filter(accept);
      if (matching.length >= count) return matching;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Expected ${count} matching ${type} events within ${timeoutMs} ms, got ${matching.length}; events: ${
            JSON.stringify(this.all).slice(-1500)
          }`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#more.promise,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, left))),
      ]);
      clearTimeout(timer);
    }
  }

  [Symbol.dispose](): void {
    for (const type of this.#types) {
      this.#target.removeEventListener(type, this.#listener);
    }
  }
}
