/*
 * fulfilltest.c — the package `counting`, for the fulfillment's tests,
 * never installed: a target that acts at once (no fulfill_end), each
 * order it applies appended as a line "<assignment> <change type>
 * <resource id>" to the file of setting `path`, so that a test counts
 * how many times each order reached the target.
 *
 * Settings: path (required); refuse: "true" makes open fail as a
 * directory that refuses the bind; fail_owner: the owner whose orders
 * fail, with a reason.
 *
 * It uses the public SDK only, like an out-of-tree package.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jobhost/jobhost.h>

static const jobhost_param counting_settings[] = {
    {.name = "path",
     .type = JOBHOST_PARAM_STRING,
     .required = 1,
     .help = "File the applied orders are appended to"},
    {.name = "refuse",
     .type = JOBHOST_PARAM_STRING,
     .help = "\"true\": open fails (bind refused)"},
    {.name = "fail_owner",
     .type = JOBHOST_PARAM_STRING,
     .help = "Owner whose orders fail"},
    JOBHOST_PARAM_END};

static int counting_open(jobhost_ctx *ctx, void **state) {
  const char *refuse = ctx->svc->setting(ctx, "refuse");
  (void)state;
  if (refuse != NULL && strcmp(refuse, "true") == 0) {
    ctx->svc->set_message(ctx, "bind refused by the test target");
    return -ECONNREFUSED;
  }
  return 0;
}

static const char *change_name(jobhost_change_type t) {
  return t == JOBHOST_CHANGE_ADDED      ? "Added"
         : t == JOBHOST_CHANGE_MODIFIED ? "Modified"
                                        : "Deleted";
}

static int counting_fulfill(jobhost_ctx *ctx, void *state,
                            const jobhost_order *o, char *message,
                            size_t size) {
  const char *path = ctx->svc->setting(ctx, "path");
  const char *fail = ctx->svc->setting(ctx, "fail_owner");
  char line[512];
  int fd, n, rc = 0;
  (void)state;
  if (fail != NULL && o->owner_id != NULL && strcmp(fail, o->owner_id) == 0) {
    snprintf(message, size, "the test target refuses owner %s", o->owner_id);
    return -EPERM;
  }
  n = snprintf(line, sizeof(line), "%s %s %s\n", o->assigned_resource_type_id,
               change_name(o->change_type),
               o->resource_id != NULL ? o->resource_id : "-");
  fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || n < 0 || write(fd, line, (size_t)n) != n)
    rc = -EIO;
  if (fd >= 0)
    close(fd);
  if (rc != 0)
    snprintf(message, size, "%s: cannot append", path);
  return rc;
}

static const jobhost_package counting_packages[] = {
    {.name = "counting",
     .description = "Counts the orders it applies (tests only)",
     .settings = counting_settings,
     .open = counting_open,
     .fulfill_order = counting_fulfill},
    JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("fulfilltest", "1.0", "The counting package", NULL,
                      counting_packages);
