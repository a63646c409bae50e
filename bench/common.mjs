// What the benchmarks that compare sides share: one local Miniflare's base options, the median,
// and when a comparison counts (its floor, or the original, against a second instance of itself).

/** One workerd on 127.0.0.1, nothing registered or reported beyond it, no `cf` object fetched. */
export const LOCAL_MINIFLARE = {
  host: "127.0.0.1",
  port: 0,
  enableDevRegistry: false,
  telemetry: { enabled: false },
  cf: false,
};

/** A comparison counts when the median of a side against its own second instance lies within this band. */
export const COUNTS_BAND = [0.95, 1.05];

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Whether a row counts: the median of its side-against-itself ratios (`noise`) within COUNTS_BAND. */
export function counts(noise) {
  if (!noise?.length) return { noiseMedian: null, counts: null };
  const m = median(noise);
  return { noiseMedian: m, counts: m >= COUNTS_BAND[0] && m <= COUNTS_BAND[1] };
}
