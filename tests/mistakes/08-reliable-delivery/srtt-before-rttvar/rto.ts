// Known mistake "srtt-before-rttvar": SRTT is updated before RTTVAR, so RTTVAR measures the
// distance of the sample from the NEW SRTT instead of the old one (RFC 6298 §2.3 says the opposite order).
/**
 * The retransmission timeout (RTO) of RFC 6298: a smoothed round-trip time (SRTT), its
 * variation (RTTVAR), RTO = SRTT + max(G, K * RTTVAR) kept between a minimum and a maximum,
 * and exponential backoff while the timer keeps expiring.
 */

/** RTO before the first measurement: 1 second (RFC 6298 §2.1). */
export const INITIAL_RTO_MS = 1_000;
/** Smallest RTO: 1 second (RFC 6298 §2.4; Linux uses 200 ms). */
export const MIN_RTO_MS = 1_000;
/** Largest RTO: "at least 60 seconds" (RFC 6298 §2.5); also the cap of the backoff (§5.5). */
export const MAX_RTO_MS = 60_000;
/** G, the clock granularity, in ms (RFC 6298 §2): RTO is at least SRTT + G. */
export const CLOCK_GRANULARITY_MS = 1;
/** Weight of a new sample in SRTT: alpha = 1/8 (RFC 6298 §2.3). */
export const ALPHA = 1 / 8;
/** Weight of a new deviation in RTTVAR: beta = 1/4 (RFC 6298 §2.3). */
export const BETA = 1 / 4;
/** How many RTTVARs of margin RTO leaves above SRTT: K = 4 (RFC 6298 §2.3). */
export const K = 4;

/** Bounds of the RTO, in ms; each defaults to the RFC 6298 value above. */
export interface RtoOptions {
  /** RTO before any measurement. Default INITIAL_RTO_MS. */
  initialRto?: number;
  /** Lower bound of a computed RTO. Default MIN_RTO_MS. */
  minRto?: number;
  /** Upper bound of a computed RTO and of the backoff. Default MAX_RTO_MS. */
  maxRto?: number;
  /** G, the clock granularity. Default CLOCK_GRANULARITY_MS. */
  granularity?: number;
}

/** SRTT, RTTVAR and the current RTO of one sender, per RFC 6298. */
export class RtoEstimator {
  /** Smoothed round-trip time in ms; undefined until the first measurement. */
  srtt: number | undefined = undefined;
  /** Round-trip time variation in ms; undefined until the first measurement. */
  rttvar: number | undefined = undefined;
  /** The current retransmission timeout in ms, backoff included. */
  rto: number;
  /** The bounds in use (defaults filled in). */
  readonly options: Required<RtoOptions>;

  constructor(options: RtoOptions = {}) {
    this.options = {
      initialRto: options.initialRto ?? INITIAL_RTO_MS,
      minRto: options.minRto ?? MIN_RTO_MS,
      maxRto: options.maxRto ?? MAX_RTO_MS,
      granularity: options.granularity ?? CLOCK_GRANULARITY_MS,
    };
    this.rto = this.options.initialRto;
  }

  /** A new round-trip measurement `r` (ms): update SRTT and RTTVAR (§2.2, §2.3), then recompute RTO. */
  sample(r: number): void {
    if (this.srtt === undefined) {
      // §2.2: the first measurement is all we know; assume it may be off by half.
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      // §2.3: RTTVAR first, because it measures how far r is from the *old* SRTT.
      // (SRTT and RTTVAR are always set together, so RTTVAR is a number here.)
      // MISTAKE: SRTT first.
      this.srtt = (1 - ALPHA) * this.srtt + ALPHA * r;
      this.rttvar = (1 - BETA) * this.rttvar! + BETA * Math.abs(this.srtt - r);
    }
    this.rto = this.computed();
  }

  /** The timer expired: double RTO (§5.5), but never past the maximum. */
  backOff(): void {
    this.rto = Math.min(this.rto * 2, this.options.maxRto);
  }

  /** New data was acknowledged: forget the backoff, back to the RTO that SRTT and RTTVAR give (or the initial one). */
  reset(): void {
    this.rto = this.computed();
  }

  /** RTO = SRTT + max(G, K * RTTVAR), kept within [minRto, maxRto] (§2.3-§2.5). */
  private computed(): number {
    if (this.srtt === undefined) return this.options.initialRto;
    const { minRto, maxRto, granularity } = this.options;
    const rto = this.srtt + Math.max(granularity, K * this.rttvar!);
    return Math.min(Math.max(rto, minRto), maxRto);
  }
}
