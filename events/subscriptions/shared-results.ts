import { createHash } from 'node:crypto';
import {
  createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult, type GraphQLFieldResolver,
} from 'graphql';
import type { ChangeEventView } from './change-stream';

/**
 * Subscription execution with results shared between subscribers. graphql-js would execute the
 * subscriber's selection once per event per subscriber; subscribers with the same document, variables and
 * identity get the same result for an event (the entity was fetched for their group), so it is executed once
 * per event and group and handed to each of them. With a thousand subscribers in a few groups this is what
 * keeps the fan-out cheap.
 */
export class SharedResults {
  private readonly cache = new Map<string, ExecutionResult>();

  constructor(private readonly fieldResolver: GraphQLFieldResolver<unknown, unknown>, private readonly capacity = 20_000) {}

  /** graphql-ws's `subscribe`: the source stream from `Subscription.changes`, each event mapped through the cache. */
  async subscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream({ ...args, fieldResolver: this.fieldResolver });
    if (!(Symbol.asyncIterator in (source as object))) return source as ExecutionResult;
    const stream = source as AsyncIterableIterator<ChangeEventView>;
    const identity = (args.contextValue as { identity?: unknown } | undefined)?.identity;
    const group = createHash('sha256').update(JSON.stringify([print(args.document), args.operationName ?? null, args.variableValues ?? {}, identity])).digest('base64url');
    const resultOf = (view: ChangeEventView): ExecutionResult => {
      const key = `${group}:${view.position}`;
      let result = this.cache.get(key);
      if (!result) {
        result = execute({ ...args, rootValue: view, fieldResolver: this.fieldResolver }) as ExecutionResult;
        this.cache.set(key, result);
        if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
      }
      return result;
    };
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]() {
        return mapped;
      },
      async next() {
        const step = await stream.next();
        return step.done ? { value: undefined, done: true } : { value: resultOf(step.value), done: false };
      },
      async return() {
        await stream.return?.();
        return { value: undefined, done: true };
      },
      async throw(err?: unknown) {
        await stream.return?.();
        throw err;
      },
    };
    return mapped;
  }
}
