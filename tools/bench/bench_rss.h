/* Resident memory of this process, for `frost bench`. */
#ifndef FROST_BENCH_RSS_H
#define FROST_BENCH_RSS_H

/* Resident set size in KiB from /proc/self/statm (no allocation: safe to call
 * between timed iterations).  -1 where /proc is not available. */
long bench_rss_kb(void);

/* Peak resident set size in KiB (VmHWM of /proc/self/status), -1 if unknown. */
long bench_peak_rss_kb(void);

#endif
