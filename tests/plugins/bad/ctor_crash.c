/* A plugin whose constructor crashes as soon as it is loaded. */
#include <signal.h>

#include <jobhost/jobhost.h>

static void crash_on_load(void) __attribute__((constructor));
static void crash_on_load(void) { raise(SIGSEGV); }

static int ctor_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_task_type ctor_tasks[] = {
    {.name = "CtorCrashTask", .run = ctor_run}, JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("ctor_crash", "1.0", "crashes when loaded", ctor_tasks,
                      NULL);
