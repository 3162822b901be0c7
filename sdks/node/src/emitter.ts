/** A minimal typed event emitter: the SDK runs in browsers too, where node:events is absent. */
export class Emitter<Events extends Record<string, (...args: never[]) => void>> {
  readonly #listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<Name extends keyof Events>(name: Name, listener: Events[Name]): this {
    let listeners = this.#listeners.get(name);
    if (listeners === undefined) this.#listeners.set(name, (listeners = new Set()));
    listeners.add(listener);
    return this;
  }

  off<Name extends keyof Events>(name: Name, listener: Events[Name]): this {
    this.#listeners.get(name)?.delete(listener);
    return this;
  }

  protected emit<Name extends keyof Events>(name: Name, ...args: Parameters<Events[Name]>): void {
    for (const listener of [...(this.#listeners.get(name) ?? [])]) {
      (listener as (...values: Parameters<Events[Name]>) => void)(...args);
    }
  }
}
