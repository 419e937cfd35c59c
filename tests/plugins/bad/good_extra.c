/* A well-formed plugin that must load beside the bad ones. */
#include <jobhost/jobhost.h>

static int good_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_param good_params[] = {
    {.name = "level_of_joy", .type = JOBHOST_PARAM_INT, .default_value = "3"},
    JOBHOST_PARAM_END};
static const jobhost_task_type good_tasks[] = {
    {.name = "GoodExtraTask", .params = good_params, .run = good_run},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("good_extra", "2.3.4", "loads fine", good_tasks, NULL);
