/*
 * graph.h — the job graph: effective levels, parent links, launch order
 * (doc/jobs.md).
 *
 * Levels (ordering: levels):
 *   - a task with `level` has that level;
 *   - a task without it gets (the highest effective level among the tasks
 *     before it in document order) + 1, or 0 for the first task; so a
 *     pipeline without any level runs in document order, one task at a
 *     time, as Identity Manager does;
 *   - every parent must have a lower effective level than its child
 *     (otherwise the child could start before its parent ends): an error
 *     naming both tasks and their levels.
 * Levels are then renumbered densely from 0 (a gap in written levels
 * means nothing).
 *
 * Dependencies (ordering: dependencies): a task starts as soon as all its
 * parents end; its displayed level is its depth (0 for tasks without
 * parents, else 1 + the deepest parent).
 *
 * In both modes a dependency cycle is an error naming its tasks in order
 * ("A -> B -> C -> A"), located at the first task of the cycle.
 *
 * Steps (like Identity Manager's Get-JobSteps): tasks sorted by effective
 * level then document order; within a level, chunks of max_parallel tasks
 * get consecutive Order numbers (the "extra levels" Identity Manager
 * inserts when a level is larger than MaxTaskBatchSize). With ordering:
 * levels, `run` launches the tasks by these Orders: one Order starts when
 * the previous one has ended. With `level_overflow: window` a level is not
 * cut: its Order is its level, and `run` keeps max_parallel of its tasks
 * running at once.
 */
#ifndef JH_GRAPH_H
#define JH_GRAPH_H

#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "pipeline.h"

typedef enum jh_graph_format {
  JH_GRAPH_TEXT = 0,
  JH_GRAPH_DOT = 1,
  JH_GRAPH_MERMAID = 2
} jh_graph_format;

typedef struct jh_graph {
  const jh_pipeline *pipeline; /* borrowed; must outlive the graph */
  size_t n;                    /* number of tasks, = pipeline->ntasks */
  int *level;                  /* effective level of each task (dense) */
  int nlevels;
  size_t **parents; /* parents[i]: indices of task i's parents */
  size_t *nparents;
  size_t **children; /* children[i]: indices of the tasks depending on i */
  size_t *nchildren;
  size_t *steps;      /* launch order: n task indices */
  size_t *step_order; /* Order number of steps[k] (see above) */
} jh_graph;

/* Build the graph of a loaded pipeline. Returns 0 and *out (free with
 * jh_graph_free), or JOBHOST_ECONFIG with errors in diags and *out NULL. */
int jh_graph_build(const jh_pipeline *p, jh_graph **out, jh_diags *diags);

void jh_graph_free(jh_graph *g);

/* Parse "text", "dot" or "mermaid"; returns 0 or -EINVAL. */
int jh_graph_format_parse(const char *name, jh_graph_format *out);

/* Print the graph: every task with its type and level, every link, and
 * continue_on_error marked. Returns 0 or -EIO. */
int jh_graph_print(const jh_graph *g, jh_graph_format fmt, FILE *out);

/* Print the steps, one per line: "Order <n>: <task id> (<type>)".
 * Returns 0 or -EIO. */
int jh_graph_print_steps(const jh_graph *g, FILE *out);

#endif /* JH_GRAPH_H */
