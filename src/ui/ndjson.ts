/**
 * The one NDJSON line shape of every streaming command (`crawl`, `caps`, `dns-tree resolve`,
 * `enr decode`, `enr lint`): `{"type": KIND, …fields}` on one line, `type` first, so a consumer
 * reads any of them with one loop and dispatches on `type` (`node`, `target`, `record`, `summary`).
 * A field of the value named `type` would be ambiguous, so it is refused rather than overwritten.
 */
export function ndjsonLine(type: string, value: object): string {
  if (Object.hasOwn(value, 'type')) throw new TypeError(`an NDJSON ${type} line must not carry its own "type" field`)
  return JSON.stringify({type, ...value}) + '\n'
}
