/*
 * job.c — see job.h.
 */
#include "config.h"

#include "job.h"

#include <string.h>

void jh_job_clear(jh_job *job) {
  /* the graph borrows the pipeline, which borrows the registry's task
   * types: free in that order */
  jh_graph_free(job->graph);
  jh_pipeline_free(job->pipeline);
  jh_registry_free(job->reg);
  memset(job, 0, sizeof(*job));
}
