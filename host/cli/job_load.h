/*
 * job_load.h — everything a command needs before it can act on a job:
 * plugins loaded, pipeline read and checked, graph built.
 *
 * Used by run, validate, graph, steps and resume so that all of them apply
 * exactly the same checks.
 */
#ifndef JH_JOB_LOAD_H
#define JH_JOB_LOAD_H

#include <stddef.h>

#include "diag.h"
#include "job.h"
#include "pipeline.h"

/*
 * Load plugins from the search path (plugin_dirs as from --plugin-dir, may
 * be empty; see jh_plugin_dirs), then the pipeline at path, then its graph.
 * Returns 0 with *job filled, or JOBHOST_ECONFIG with errors in diags (the
 * plugins' refusals are added as warnings), or another negative code.
 * On failure *job is left cleared.
 */
int jh_job_load(const char *path, const char *const *plugin_dirs,
                size_t nplugin_dirs, jh_job *job, jh_diags *diags);

/* jh_job_load with pipeline options (--allow-include; opt may be NULL). */
int jh_job_load_opts(const char *path, const char *const *plugin_dirs,
                     size_t nplugin_dirs, const jh_pipeline_options *opt,
                     jh_job *job, jh_diags *diags);

#endif /* JH_JOB_LOAD_H */
