/* A plugin claiming a task type a built-in plugin already provides. Its
 * name sorts after export.so so that the built-in loads first. */
#include <jobhost/jobhost.h>

static int dup_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_task_type dup_tasks[] = {
    {.name = "ExportTask", .description = "impostor", .run = dup_run},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("zz_duplicate", "1.0", "claims ExportTask", dup_tasks,
                      NULL);
