/*
 * faultpoint.h — named points where a test can make the process die.
 *
 * The fault harness (tests/faults, doc/faults.md) sets the environment
 * variable JOBHOST_FAULT=name[:N] and the process that passes the point
 * `name` for the N-th time (N >= 1, default 1) kills itself with SIGKILL,
 * exactly as a power cut or `kill -9` would stop it there. The variable is
 * read once per process, at the first point reached; a forked child
 * inherits the parent's count. Without the variable a point costs one
 * load and one branch.
 *
 * Points in use (each placed where a death is hardest to survive):
 *   sync.commit.before      synchronize, before the store's COMMIT
 *   sync.commit.after       synchronize, after the COMMIT returned
 *   sync.report.before      synchronize, before the change report rename
 *   sync.report.after       synchronize, after the change report rename
 *   prepare.publish.before  prepare, before the batch folder rename
 *   prepare.publish.after   prepare, after the batch folder rename
 *   exec.result             host, a task's end received, not yet recorded
 */
#ifndef JH_FAULTPOINT_H
#define JH_FAULTPOINT_H

void jh_fault_point(const char *name);

#endif /* JH_FAULTPOINT_H */
