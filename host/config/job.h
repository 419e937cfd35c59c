/*
 * job.h — a loaded job: the plugin registry, the pipeline read and
 * checked against it, and the graph built from the pipeline.
 *
 * Filled by jh_job_load (host/cli/job_load.h), which reads YAML or
 * Identity Manager XML; the engine only reads it.
 */
#ifndef JH_JOB_H
#define JH_JOB_H

#include "graph.h"
#include "loader.h"
#include "pipeline.h"

typedef struct jh_job {
  jh_registry *reg;
  jh_pipeline *pipeline;
  jh_graph *graph;
} jh_job;

/* Free what jh_job_load filled; a cleared jh_job is a no-op. */
void jh_job_clear(jh_job *job);

#endif /* JH_JOB_H */
