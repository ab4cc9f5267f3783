/** The self-check's unit of account: one named check that passed or failed, with details. */
export interface CheckResult {
  name: string;
  ok: boolean;
  details: string[];
}

/** A list of checks being filled in. */
export class Checks {
  readonly results: CheckResult[] = [];

  /** Record one check. */
  add(name: string, ok: boolean, details: string[] = []): void {
    this.results.push({ name, ok, details });
  }

  get passed(): number {
    return this.results.filter((r) => r.ok).length;
  }

  get failed(): number {
    return this.results.filter((r) => !r.ok).length;
  }
}
