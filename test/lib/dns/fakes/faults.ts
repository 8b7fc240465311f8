/** Fault injection shared by the provider fakes. */
export interface Fault {
  /** Which requests it hits, e.g. (m, p) => m === 'POST'. */
  match: (method: string, path: string) => boolean
  status: number
  /** Retry-After header value. */
  retryAfter?: string
  /** Body to send (default: provider-style error). */
  code?: string
  /** How many matching requests fail (Infinity = until removed). */
  times: number
  /** Let this many matching requests through before failing. */
  after?: number
}

export class FaultPlan {
  private faults: Array<Fault & {seen: number; hit: number}> = []

  add(fault: Fault): void {
    this.faults.push({...fault, seen: 0, hit: 0})
  }

  clear(): void {
    this.faults = []
  }

  /** The fault for this request, if one fires. */
  take(method: string, path: string): Fault | undefined {
    for (const f of this.faults) {
      if (!f.match(method, path)) continue
      f.seen++
      if (f.seen <= (f.after ?? 0)) continue
      if (f.hit >= f.times) continue
      f.hit++
      return f
    }
    return undefined
  }
}
