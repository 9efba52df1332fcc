// Dramatiq's Redis key layout (dramatiq/brokers/redis/dispatch.lua), for namespace `ns`:
//   ns:<queue>                      list of message ids waiting
//   ns:<queue>.msgs                 hash id -> message, for waiting AND fetched-but-unacked messages
//   ns:<queue>.DQ / .DQ.msgs        the delayed queue of <queue>, same shape
//   ns:<queue>.XQ / .XQ.msgs        dead letters: sorted set by time + hash (never ns:<queue>.DQ.XQ)
//   ns:__acks__.<worker>.<queue>    set of ids a worker fetched and has not acked yet
//   ns:__heartbeats__               sorted set of worker ids
//   ns:<queue>.acks                 acks zset of Dramatiq before 1.x (still migrated by dispatch.lua)
// Redis deletes a hash when its last field goes, so an empty queue has no key at all.

/** The base queue name (without .DQ/.XQ) a key belongs to, or undefined for other keys. */
export function queueOfKey(key: string, prefix: string): string | undefined {
  const head = prefix + ':';
  if (!key.startsWith(head)) return undefined;
  let rest = key.slice(head.length);
  if (rest.startsWith('__acks__.')) {
    // __acks__.<worker id>.<queue>; worker ids are UUIDs, without dots.
    const afterWorker = rest.indexOf('.', '__acks__.'.length);
    if (afterWorker === -1) return undefined;
    rest = rest.slice(afterWorker + 1);
  } else if (rest.startsWith('__')) {
    return undefined;
  }
  for (const suffix of ['.msgs', '.acks']) if (rest.endsWith(suffix)) rest = rest.slice(0, -suffix.length);
  for (const suffix of ['.DQ', '.XQ']) if (rest.endsWith(suffix)) rest = rest.slice(0, -suffix.length);
  return rest === '' ? undefined : rest;
}

/** The three queues reported for a base queue: itself, its delayed queue, its dead letters. */
export function reportedQueues(base: string): [string, string, string] {
  return [base, `${base}.DQ`, `${base}.XQ`];
}

/** A SCAN MATCH pattern for every key under `prefix:`, glob characters of the prefix escaped. */
export function scanPattern(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (c) => '\\' + c) + ':*';
}
