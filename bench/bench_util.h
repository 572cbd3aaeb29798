/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the benchmark programs share: the clock, sorting and nearest-rank
 * percentiles, a process's CPU time from /proc, and strict option
 * numbers (a benchmark run with a mistyped count must not measure 0).
 */
#ifndef OL_BENCH_UTIL_H
#define OL_BENCH_UTIL_H

#include <stddef.h>

/* CLOCK_MONOTONIC in milliseconds */
double bench_now_ms(void);

/* sleeps ms (nothing for ms <= 0), resumed after signals */
void bench_sleep_ms(double ms);

/* sorts v[0..n-1] ascending and gives its median and nearest-rank 95th
 * percentile (0 for n == 0) */
void bench_percentiles(double *v, size_t n, double *median, double *p95);

/* utime + stime of process pid in microseconds; < 0 if unknown */
double bench_proc_cpu_us(long pid);

/* s as a decimal int from min to max into *out: 0; else a message
 * "PROG: OPT wants a number from MIN to MAX" on stderr and -1 */
int bench_parse_int(const char *prog, const char *opt, const char *s,
    int min, int max, int *out);

#endif
