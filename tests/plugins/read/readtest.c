/*
 * readtest.c — a test plugin of SDK 1.2's read access and typed
 * parameters, built against today's headers (tests/host/test_readaccess):
 *
 *   CountResourcesTask  counts the resources of an entity type through
 *       the read services, with their values and link targets, into
 *       counters; with `scope: connector` only its connector's;
 *   TypedTask           reads typed parameters and a connection's list
 *       setting with the typed getters, into counters; its validate
 *       refuses `first` after `last`;
 *   typedpkg            a package whose settings have a range, a pattern
 *       and a list; its validate refuses an empty `hosts`.
 */
#include <errno.h>
#include <string.h>

#include <jobhost/jobhost.h>

/* ---- CountResourcesTask ---- */

static const char *const scopes[] = {"model", "connector", NULL};

static const jobhost_param count_params[] = {
    {.name = "entity_type",
     .type = JOBHOST_PARAM_ENTITY_TYPE,
     .required = 1,
     .help = "The entity type whose resources are counted"},
    {.name = "scope",
     .type = JOBHOST_PARAM_ENUM,
     .choices = scopes,
     .default_value = "model",
     .help = "model: any entity type; connector: only the task's connector's"},
    {.name = JOBHOST_PARAM_NAME_CONNECTOR,
     .type = JOBHOST_PARAM_STRING,
     .help = "The connector the task belongs to"},
    JOBHOST_PARAM_END};

static int count_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *name = svc->param(ctx, "entity_type");
  const char *scope = svc->param(ctx, "scope");
  unsigned flags = strcmp(scope, "connector") == 0 ? JOBHOST_READ_CONNECTOR : 0;
  const jobhost_entity_type *const *types;
  const jobhost_entity_type *et;
  const jobhost_resource *r;
  jobhost_cursor *cur;
  int64_t resources = 0, values = 0, links = 0;
  size_t ntypes;
  int rc;

  if (!JOBHOST_SVC_HAS(svc, resources_close) ||
      !JOBHOST_CTX_HAS(ctx, connector)) {
    svc->set_message(ctx, "this host has no read access (ABI 1.2)");
    return JOBHOST_ENOTIMPL;
  }
  ntypes = svc->entity_types(ctx, flags, &types);
  svc->counter_set(ctx, "entity_types", (int64_t)ntypes);
  et = svc->entity_type(ctx, name);
  if (et == NULL) {
    svc->set_message(ctx, "no entity type %s", name);
    return -ENOENT;
  }
  svc->counter_set(ctx, "properties", (int64_t)et->nproperties);
  rc = svc->resources_open(ctx, name, flags, &cur);
  if (rc != 0) {
    svc->set_message(ctx, "cannot read %s: %s", name, jobhost_strerror(rc));
    return rc;
  }
  while ((rc = svc->resources_next(cur, &r)) == 1) {
    resources++;
    for (size_t i = 0; i < r->nvalues; i++) {
      const jobhost_property *p = NULL;
      for (size_t k = 0; k < et->nproperties; k++)
        if (strcmp(et->properties[k].name, r->values[i].name) == 0)
          p = &et->properties[k];
      if (p != NULL && (p->type == JOBHOST_PROPERTY_LINKS ||
                        p->type == JOBHOST_PROPERTY_LINK))
        links += (int64_t)r->values[i].nvalues;
      else
        values += (int64_t)r->values[i].nvalues;
    }
  }
  svc->resources_close(cur);
  if (rc < 0) {
    svc->set_message(ctx, "reading %s failed: %s", name, jobhost_strerror(rc));
    return rc;
  }
  svc->counter_set(ctx, "resources", resources);
  svc->counter_set(ctx, "values", values);
  svc->counter_set(ctx, "links", links);
  svc->set_message(ctx, "%lld resources of %s", (long long)resources, name);
  return 0;
}

/* ---- TypedTask ---- */

static const char *const kinds[] = {"a", "b", "c", NULL};

static const jobhost_param typed_params[] = {
    {.name = "repeat",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1",
     .range = JOBHOST_PARAM_RANGE(1, 100)},
    {.name = "label",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "x",
     .pattern = "[a-z][a-z0-9_]*"},
    {.name = "kinds",
     .type = JOBHOST_PARAM_LIST,
     .default_value = "a,b",
     .choices = kinds},
    {.name = "wait", .type = JOBHOST_PARAM_DURATION, .default_value = "2s"},
    {.name = "verbose", .type = JOBHOST_PARAM_BOOL, .default_value = "false"},
    {.name = "first", .type = JOBHOST_PARAM_INT, .default_value = "0"},
    {.name = "last", .type = JOBHOST_PARAM_INT, .default_value = "0"},
    {.name = JOBHOST_PARAM_NAME_CONNECTION, .type = JOBHOST_PARAM_STRING},
    JOBHOST_PARAM_END};

static int typed_validate(jobhost_ctx *ctx) {
  int64_t first = 0, last = 0;
  if (ctx->svc->param_int(ctx, "first", &first) != 0 ||
      ctx->svc->param_int(ctx, "last", &last) != 0)
    return JOBHOST_ECONFIG;
  if (first > last) {
    ctx->svc->set_message(ctx, "first (%lld) must not be after last (%lld)",
                          (long long)first, (long long)last);
    return JOBHOST_ECONFIG;
  }
  return 0;
}

static int typed_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *const *items;
  int64_t repeat = 0, wait = 0;
  int verbose = -1;
  size_t n;

  if (svc->param_int(ctx, "repeat", &repeat) != 0 ||
      svc->param_duration(ctx, "wait", &wait) != 0 ||
      svc->param_bool(ctx, "verbose", &verbose) != 0)
    return JOBHOST_ECONFIG;
  if (svc->param_int(ctx, "label", &repeat) != -EINVAL ||
      svc->param_int(ctx, "repeat", &repeat) != 0)
    return JOBHOST_ECONFIG; /* a string is not an int */
  svc->counter_set(ctx, "repeat", repeat);
  svc->counter_set(ctx, "wait_ms", wait);
  svc->counter_set(ctx, "verbose", verbose);
  n = svc->param_list(ctx, "kinds", &items);
  svc->counter_set(ctx, "kinds", (int64_t)n);
  svc->counter_set(ctx, "kinds_c", n > 0 && strcmp(items[n - 1], "c") == 0);
  n = svc->setting_list(ctx, "hosts", &items);
  svc->counter_set(ctx, "hosts", (int64_t)n);
  if (n > 0)
    svc->set_message(ctx, "last host %s", items[n - 1]);
  return 0;
}

static const jobhost_task_type types[] = {
    {.name = "CountResourcesTask",
     .description = "Counts the resources of an entity type",
     .params = count_params,
     .run = count_run},
    {.name = "TypedTask",
     .description = "Reads typed parameters",
     .params = typed_params,
     .run = typed_run,
     .validate = typed_validate},
    JOBHOST_TASK_TYPE_END};

/* ---- typedpkg ---- */

static const jobhost_param pkg_settings[] = {
    {.name = "hosts",
     .type = JOBHOST_PARAM_LIST,
     .default_value = "",
     .pattern = "[a-z0-9.-]+"},
    {.name = "port",
     .type = JOBHOST_PARAM_INT,
     .default_value = "389",
     .range = JOBHOST_PARAM_RANGE(1, 65535)},
    JOBHOST_PARAM_END};

static int pkg_validate(jobhost_ctx *ctx) {
  const char *const *items;
  if (ctx->svc->setting_list(ctx, "hosts", &items) == 0) {
    ctx->svc->set_message(ctx, "hosts must name at least one host");
    return JOBHOST_ECONFIG;
  }
  return 0;
}

static int pkg_export(jobhost_ctx *ctx, void *state) {
  (void)state;
  ctx->svc->set_message(ctx, "typedpkg exports nothing");
  return JOBHOST_ENOTIMPL;
}

static const jobhost_package packages[] = {{.name = "typedpkg",
                                            .description = "Typed settings",
                                            .settings = pkg_settings,
                                            .export_tables = pkg_export,
                                            .validate = pkg_validate},
                                           JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("readtest", "1.0.0",
                      "Read access and typed parameters (SDK 1.2)", types,
                      packages);
