/*
 * job_load.c — see job_load.h.
 */
#include "config.h"

#include "job_load.h"

#include <string.h>

#include "services.h"
#include "xml_import.h"

/* Each plugin refusal becomes a warning: the job may not need it, but a
 * user whose task type is "unknown" should see why. */
static void refusals_as_warnings(const jh_registry *reg, jh_diags *diags) {
  for (size_t i = 0; i < reg->nrefusals; i++)
    jh_diag_add(diags, JH_DIAG_WARNING, NULL, 0, 0, "plugin %s refused: %s",
                reg->refusals[i].path, reg->refusals[i].reason);
}

int jh_job_load(const char *path, const char *const *plugin_dirs,
                size_t nplugin_dirs, jh_job *job, jh_diags *diags) {
  return jh_job_load_opts(path, plugin_dirs, nplugin_dirs, NULL, job, diags);
}

int jh_job_load_opts(const char *path, const char *const *plugin_dirs,
                     size_t nplugin_dirs, const jh_pipeline_options *opt,
                     jh_job *job, jh_diags *diags) {
  char **dirs = NULL;
  size_t ndirs = 0;
  int rc;

  memset(job, 0, sizeof(*job));
  rc = jh_plugin_dirs(plugin_dirs, nplugin_dirs, &dirs, &ndirs);
  if (rc != 0)
    return rc;
  rc = jh_registry_load((const char *const *)dirs, ndirs, &job->reg);
  jh_strv_free(dirs, ndirs);
  if (rc != 0) {
    job->reg = NULL;
    return rc;
  }
  refusals_as_warnings(job->reg, diags);
  if (jh_xml_sniff(path)) /* Identity Manager XML (xml_import.h) */
    rc = jh_xml_pipeline_load(path, job->reg, NULL, &job->pipeline, diags);
  else
    rc = jh_pipeline_load_opts(path, job->reg, opt, &job->pipeline, diags);
  if (rc == 0)
    rc = jh_graph_build(job->pipeline, &job->graph, diags);
  /* the plugins' own checks (SDK 1.2 validate), before anything runs */
  if (rc == 0)
    rc = jh_pipeline_validate(job->pipeline, diags);
  if (rc != 0)
    jh_job_clear(job);
  return rc;
}
