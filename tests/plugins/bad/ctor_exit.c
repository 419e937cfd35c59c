/* A plugin whose constructor ends the process, with status 0. */
#include <stdlib.h>

#include <jobhost/jobhost.h>

static void exit_on_load(void) __attribute__((constructor));
static void exit_on_load(void) { exit(0); }

static int ctor_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_task_type ctor_tasks[] = {
    {.name = "CtorExitTask", .run = ctor_run}, JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("ctor_exit", "1.0", "exits when loaded", ctor_tasks,
                      NULL);
