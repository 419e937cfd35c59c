/*
 * faultpoint.h — named points where a test can kill the process, to check
 * what a crash at that very moment leaves behind.
 *
 * The environment variable JOBHOST_FAULT=name[:N] makes the N-th call of
 * jh_fault_point("name") (N defaults to 1) raise SIGKILL in the calling
 * process. The variable is read once, at the first call. Without it a
 * fault point costs one comparison.
 */
#ifndef JH_FAULTPOINT_H
#define JH_FAULTPOINT_H

void jh_fault_point(const char *name);

#endif /* JH_FAULTPOINT_H */
