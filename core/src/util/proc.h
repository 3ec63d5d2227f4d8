/* paysync util: is a process that wrote a marker still the same process? A pid alone is not
 * enough: once the writer is gone the kernel may hand its pid to another process. A marker
 * therefore records the pid with the process's start time (field 22 of /proc/PID/stat, clock
 * ticks since boot), and a pid counts as the writer only while both match. */
#ifndef PS_UTIL_PROC_H
#define PS_UTIL_PROC_H

/* The start time of process pid (clock ticks since boot, /proc/PID/stat field 22). Returns 0
 * with *out set, or -1 when the process does not exist or /proc cannot be read. */
int ps_proc_start_time(long pid, unsigned long long *out);

/* 1 when process pid exists and, with start != 0, started at that time (the same process,
 * not a later one given the same pid); 0 otherwise. With start == 0 (a marker from before
 * start times were recorded) only the pid is checked. A process of another user counts as
 * existing. When /proc cannot be read the pid alone decides. */
int ps_proc_alive(long pid, unsigned long long start);

#endif
