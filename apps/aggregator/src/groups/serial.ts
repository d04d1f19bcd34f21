/**
 * Runs tasks one at a time, in the order they were asked for: applying a batch and
 * publishing a group's KPIs never interleave on the same in-memory state.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
