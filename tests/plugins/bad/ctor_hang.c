/* A plugin whose constructor never returns. */
#include <unistd.h>

#include <jobhost/jobhost.h>

static void hang_on_load(void) __attribute__((constructor));
static void hang_on_load(void) {
  for (;;)
    sleep(1); /* asleep rather than spinning: the test machine is shared */
}

static int ctor_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_task_type ctor_tasks[] = {
    {.name = "CtorHangTask", .run = ctor_run}, JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("ctor_hang", "1.0", "never returns from loading",
                      ctor_tasks, NULL);
