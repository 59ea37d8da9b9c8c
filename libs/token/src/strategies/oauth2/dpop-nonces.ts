/** RFC 9449 §8.1: `nonce = 1*NQCHAR` (printable ASCII without `"` and `\`). */
const NQCHAR = /^[\x21\x23-\x5b\x5d-\x7e]{1,512}$/;

/**
 * The last `DPoP-Nonce` each origin sent (RFC 9449 §8, §9), bounded: past `max` origins the least
 * recently used one is forgotten (it will ask again with `use_dpop_nonce`). A value that is not a
 * well-formed nonce is ignored.
 */
export class DpopNonces {
  readonly #byOrigin = new Map<string, string>();

  constructor(private readonly max = 100) {}

  get(origin: string): string | undefined {
    const nonce = this.#byOrigin.get(origin);
    if (nonce !== undefined) {
      this.#byOrigin.delete(origin);
      this.#byOrigin.set(origin, nonce);
    }
    return nonce;
  }

  /** Keeps a nonce the origin sent; true when it was well formed. */
  set(origin: string, nonce: string | null | undefined): boolean {
    if (typeof nonce !== 'string' || !NQCHAR.test(nonce)) return false;
    this.#byOrigin.delete(origin);
    this.#byOrigin.set(origin, nonce);
    while (this.#byOrigin.size > this.max) this.#byOrigin.delete(this.#byOrigin.keys().next().value!);
    return true;
  }

  get size(): number {
    return this.#byOrigin.size;
  }
}
