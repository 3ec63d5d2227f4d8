/* paysync util: PS_ALWAYS_INLINE, for a small static helper on the row path that GCC's -O2
 * (the packagers' and bench/run's level) leaves out of line although inlining it pays: the
 * validator's per-field step and the CSV reader's 64-byte block scan. docs/performance.md
 * ("Inlining at -O2") has the instruction counts. Plain `inline` where the attribute is
 * unknown. */
#ifndef PS_UTIL_INLINE_H
#define PS_UTIL_INLINE_H

#if defined(__GNUC__)
#define PS_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define PS_ALWAYS_INLINE inline
#endif

#endif
