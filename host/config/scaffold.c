/*
 * scaffold.c — see scaffold.h; the rules are in doc/scaffold.md.
 *
 * The job is built as a list of generated tasks (type, level, parameters,
 * parents, a comment), then the scaffold's children change it (AddTask,
 * LinkDependTask), then it is written as YAML in level order. A task
 * whose type no loaded plugin provides is left out with a note, and so
 * are the task types of Identity Manager that jobhost does not have; a
 * parameter the task type does not declare is not written.
 */
#include "config.h"

#include "scaffold.h"
#include "model_load.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {"complete", "incremental",
                                         "agent-complete", "initialization"};

const char *jh_scaffold_kind_name(jh_scaffold_kind k) {
  return (unsigned)k < JH_SCAFFOLD_NKINDS ? kind_names[k] : NULL;
}

int jh_scaffold_kind_parse(const char *name, jh_scaffold_kind *out) {
  for (size_t i = 0; i < NELEM(kind_names); i++)
    if (strcmp(name, kind_names[i]) == 0) {
      *out = (jh_scaffold_kind)i;
      return 0;
    }
  return -1;
}

/* ---- the generated job ---- */

typedef struct gparam {
  char *key;
  char *text;   /* scalar, or NULL */
  char **items; /* list */
  size_t nitems;
} gparam;

typedef struct gtask {
  char *id;
  char *type;
  char *display_name;
  char *agent;
  char *comment;
  int level;
  int continue_on_error;
  gparam *params;
  size_t nparams;
  char **deps;
  size_t ndeps;
} gtask;

/* A task left out, written as a comment where it would have been. */
typedef struct gnote {
  int level;
  char *text;
} gnote;

typedef struct gen {
  const jh_scaffold *s;
  const jh_model *m;
  const jh_registry *reg;
  char *job_id;
  gtask *tasks;
  size_t ntasks;
  gnote *notes;
  size_t nnotes;
  int oom;
  char *err;
  size_t errsize;
  jh_loc *where;
  int failed;
} gen;

static char *xstrdup(gen *g, const char *s) {
  char *d = s != NULL ? strdup(s) : NULL;
  if (s != NULL && d == NULL)
    g->oom = 1;
  return d;
}

static char *xprintf(gen *g, const char *fmt, ...) JOBHOST_PRINTF(2, 3);
static char *xprintf(gen *g, const char *fmt, ...) {
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) {
    s = NULL;
    g->oom = 1;
  }
  va_end(ap);
  return s;
}

static void fail(gen *g, jh_loc where, const char *fmt, ...)
    JOBHOST_PRINTF(3, 4);
static void fail(gen *g, jh_loc where, const char *fmt, ...) {
  va_list ap;
  if (g->failed)
    return;
  g->failed = 1;
  if (g->where != NULL)
    *g->where = where;
  va_start(ap, fmt);
  vsnprintf(g->err, g->errsize, fmt, ap);
  va_end(ap);
}

static int grow(gen *g, void *arrp, size_t n, size_t size) {
  void **arr = arrp;
  void *p = realloc(*arr, (n + 1) * size);
  if (p == NULL) {
    g->oom = 1;
    return -1;
  }
  memset((char *)p + n * size, 0, size);
  *arr = p;
  return 0;
}

static void note(gen *g, int level, const char *fmt, ...) JOBHOST_PRINTF(3, 4);
static void note(gen *g, int level, const char *fmt, ...) {
  va_list ap;
  char *s = NULL;
  if (grow(g, &g->notes, g->nnotes, sizeof(*g->notes)) != 0)
    return;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0) {
    s = NULL;
    g->oom = 1;
  }
  va_end(ap);
  if (s == NULL)
    return;
  g->notes[g->nnotes].level = level;
  g->notes[g->nnotes++].text = s;
}

/* The task type's schema entry `key`, or NULL. */
static const jobhost_param *type_param(const jobhost_task_type *tt,
                                       const char *key) {
  for (size_t i = 0;
       tt != NULL && tt->params != NULL && tt->params[i].name != NULL; i++)
    if (strcmp(tt->params[i].name, key) == 0)
      return &tt->params[i];
  return NULL;
}

/* A new task of `type` at `level`, or NULL (left out with a note when no
 * loaded plugin provides the type). The id is <job>_<suffix>. */
static gtask *add_task(gen *g, const char *type, int level,
                       const char *display_name, char *suffix, char *comment) {
  gtask *t;
  if (suffix == NULL || comment == NULL ||
      jh_registry_task_type(g->reg, type, NULL) == NULL) {
    if (suffix != NULL && comment != NULL)
      note(g, level, "%s left out: no loaded plugin provides it (%s)", type,
           comment);
    free(suffix);
    free(comment);
    return NULL;
  }
  if (grow(g, &g->tasks, g->ntasks, sizeof(*g->tasks)) != 0) {
    free(suffix);
    free(comment);
    return NULL;
  }
  t = &g->tasks[g->ntasks++];
  t->id = xprintf(g, "%s_%s", g->job_id, suffix);
  t->type = xstrdup(g, type);
  t->display_name = xstrdup(g, display_name);
  t->level = level;
  t->comment = comment;
  free(suffix);
  return t;
}

static gparam *new_param(gen *g, gtask *t, const char *key) {
  const jobhost_task_type *tt = jh_registry_task_type(g->reg, t->type, NULL);
  if (type_param(tt, key) == NULL)
    return NULL; /* not a parameter of this task type: not written */
  if (grow(g, &t->params, t->nparams, sizeof(*t->params)) != 0)
    return NULL;
  t->params[t->nparams].key = xstrdup(g, key);
  return &t->params[t->nparams++];
}

static void set(gen *g, gtask *t, const char *key, const char *value) {
  gparam *p;
  if (t == NULL || value == NULL || (p = new_param(g, t, key)) == NULL)
    return;
  p->text = xstrdup(g, value);
}

/* A list parameter from names (not written when empty). */
static void set_list(gen *g, gtask *t, const char *key,
                     const char *const *names, size_t n) {
  gparam *p;
  if (t == NULL || n == 0 || (p = new_param(g, t, key)) == NULL)
    return;
  p->items = calloc(n, sizeof(*p->items));
  if (p->items == NULL) {
    g->oom = 1;
    return;
  }
  for (size_t i = 0; i < n; i++)
    p->items[p->nitems++] = xstrdup(g, names[i]);
}

static void depend(gen *g, gtask *t, const char *parent) {
  if (t == NULL || parent == NULL)
    return;
  for (size_t i = 0; i < t->ndeps; i++)
    if (strcmp(t->deps[i], parent) == 0)
      return;
  if (grow(g, &t->deps, t->ndeps, sizeof(*t->deps)) != 0)
    return;
  t->deps[t->ndeps++] = xstrdup(g, parent);
}

/* ---- name sets ---- */

typedef struct names {
  const char *v[256];
  size_t n;
  int full;
} names;

static void names_add(names *s, const char *name) {
  if (name == NULL)
    return;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->v[i], name) == 0)
      return;
  if (s->n < NELEM(s->v))
    s->v[s->n++] = name;
  else
    s->full = 1;
}

static int names_has(const names *s, const char *name) {
  for (size_t i = 0; name != NULL && i < s->n; i++)
    if (strcmp(s->v[i], name) == 0)
      return 1;
  return 0;
}

/* ---- what the model ties to a connector ---- */

static int same_connector(const char *a, const char *b) {
  return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static const jobhost_package *conn_package(const gen *g,
                                           const jh_connection *c) {
  return c->package != NULL ? jh_registry_package(g->reg, c->package, NULL)
                            : NULL;
}

static int exports_from(const gen *g, const jh_connection *c) {
  const jobhost_package *p = conn_package(g, c);
  return p != NULL && p->export_tables != NULL &&
         c->deactivation != JH_DEACTIVATE_EXPORT;
}

static int fulfills_through(const gen *g, const jh_connection *c) {
  const jobhost_package *p = conn_package(g, c);
  return p != NULL && p->fulfill_order != NULL &&
         c->deactivation != JH_DEACTIVATE_FULFILL;
}

/* The prepare type of a connector (NULL: the plain variant), and why. An
 * export that writes a change list (a connection setting its package's
 * `command_column`) is read by the Changes variant, by the ActiveDirectory
 * one for the directory package `ldap`. */
static const char *prepare_type(const gen *g, const char *connector,
                                const char **why) {
  const jh_model *m = g->m;
  for (size_t i = 0; i < m->nconnections; i++) {
    const jh_connection *c = &m->connections[i];
    const jobhost_package *p;
    if (!same_connector(c->connector, connector) || !exports_from(g, c))
      continue;
    p = conn_package(g, c);
    if (jh_package_setting(p, "command_column") != NULL &&
        jh_connection_setting(c, "command_column") != NULL) {
      *why = c->id;
      return strcmp(p->name, "ldap") == 0 ? "ActiveDirectory" : "Changes";
    }
  }
  *why = NULL;
  return NULL;
}

static void connector_entity_types(const jh_model *m, const char *connector,
                                   names *out) {
  for (size_t i = 0; i < m->nmappings; i++)
    if (same_connector(m->mappings[i].connector, connector))
      names_add(out, m->mappings[i].entity_type);
}

static int rt_of(const jh_model *m, const jh_resource_type *rt,
                 const char *connector) {
  return same_connector(jh_model_resource_type_connector(m, rt), connector);
}

/* ---- the connectors of the job ---- */

typedef struct jconn {
  const jh_connector *c;
  int sync;
  int prov;
} jconn;

static jh_job_use use_of(const jh_scaffold *s, const jh_connector *c) {
  return s->kind == JH_SCAFFOLD_INCREMENTAL ? c->incremental_job
                                            : c->complete_job;
}

static const char *const use_names[] = {"Used", "NotUsed",
                                        "OnlySynchronization",
                                        "OnlyProvisioning"};

static void take_connector(gen *g, const jh_connector *c, jconn *out, size_t *n,
                           size_t cap) {
  jh_job_use u = use_of(g->s, c);
  const char *key = g->s->kind == JH_SCAFFOLD_INCREMENTAL ? "incremental_job"
                                                          : "complete_job";
  if (c->deactivated) {
    note(g, -1, "connector %s left out: deactivated", c->id);
    return;
  }
  if (u == JH_JOB_NOT_USED) {
    note(g, -1, "connector %s left out: %s: NotUsed", c->id, key);
    return;
  }
  if (*n >= cap)
    return;
  out[*n].c = c;
  out[*n].sync = !g->s->no_synchronization && u != JH_JOB_ONLY_PROVISIONING;
  out[*n].prov = !g->s->no_provisioning && u != JH_JOB_ONLY_SYNCHRONIZATION;
  if (u != JH_JOB_USED)
    note(g, -1, "connector %s: %s: %s", c->id, key, use_names[u]);
  (*n)++;
}

/* ---- the stages ---- */

static const char *mode_name(jh_scaffold_kind k) {
  return k == JH_SCAFFOLD_INCREMENTAL      ? "Incremental"
         : k == JH_SCAFFOLD_INITIALIZATION ? "Initial"
                                           : "Complete";
}

/* Exports, prepare and synchronize of one connector. */
static void synchronization(gen *g, const jconn *jc, int level) {
  const jh_model *m = g->m;
  const jh_connector *c = jc->c;
  jh_scaffold_kind k = g->s->kind;
  const char *mode = mode_name(k), *why, *type = prepare_type(g, c->id, &why);
  const char *exports[64];
  size_t nexports = 0;
  char *dn;
  gtask *t;

  for (size_t i = 0; i < m->nconnections && nexports < NELEM(exports); i++) {
    const jh_connection *cn = &m->connections[i];
    if (!same_connector(cn->connector, c->id))
      continue;
    if (!exports_from(g, cn)) {
      if (cn->deactivation == JH_DEACTIVATE_EXPORT)
        note(g, level,
             "no export of connection %s: "
             "deactivation_export_fulfill: Export",
             cn->id);
      continue;
    }
    dn = xprintf(g, "%s - Export %s (%s mode)", c->id, cn->id, mode);
    t = add_task(g, "ExportTask", level, dn,
                 xprintf(g, "Export_%s_%s_%s", c->id, mode, cn->id),
                 xprintf(g,
                         "export of connection %s (connector %s, "
                         "package %s)%s",
                         cn->id, c->id, cn->package,
                         k == JH_SCAFFOLD_INCREMENTAL
                             ? ": the cookie is kept (delta)"
                             : ": complete extract, cookie ignored"));
    free(dn);
    if (t == NULL)
      continue;
    t->agent = xstrdup(g, c->agent);
    t->continue_on_error = 1;
    set(g, t, "connection", cn->id);
    set(g, t, "connector", c->id);
    set(g, t, "open_id_client", "Job");
    if (k != JH_SCAFFOLD_INCREMENTAL)
      set(g, t, "ignore_cookie_file", "true");
    if (k == JH_SCAFFOLD_INITIALIZATION)
      set(g, t, "init_mode", "true");
    exports[nexports++] = t->id;
  }

  dn = xprintf(g, "%s - Prepare Synchronization (%s mode)", c->id, mode);
  t = add_task(g, "PrepareSynchronizationTask", level + 1, dn,
               xprintf(g, "PrepareSynchronization_%s_%s", c->id, mode),
               type == NULL
                   ? xprintf(g, "prepare of connector %s, after its exports",
                             c->id)
                   : xprintf(g,
                             "prepare of connector %s, after its exports; "
                             "Type %s: connection %s exports a change list "
                             "(command_column)",
                             c->id, type, why));
  free(dn);
  const char *prepare = NULL;
  if (t != NULL) {
    t->agent = xstrdup(g, c->agent);
    set(g, t, "connector", c->id);
    set(g, t, "synchronization_mode", mode);
    set(g, t, "prepare_type", type);
    set(g, t, "open_id_client", "Job");
    for (size_t i = 0; i < nexports; i++)
      depend(g, t, exports[i]);
    prepare = t->id;
  }

  dn = xprintf(g, "%s - Synchronization", c->id);
  t = add_task(
      g, "SynchronizeTask", level + 2, dn, xprintf(g, "Synchronize_%s", c->id),
      xprintf(g, "synchronization of connector %s, after its prepare%s", c->id,
              k == JH_SCAFFOLD_INCREMENTAL
                  ? "; change tables kept for SetRecentlyModifiedFlagTask"
              : k == JH_SCAFFOLD_INITIALIZATION
                  ? "; thresholds ignored (initial load)"
                  : ""));
  free(dn);
  if (t != NULL) {
    set(g, t, "connector", c->id);
    set(g, t, "prepare_type", type);
    if (k == JH_SCAFFOLD_INCREMENTAL)
      set(g, t, "do_not_delete_changes", "true");
    if (k == JH_SCAFFOLD_INITIALIZATION)
      set(g, t, "force_synchronization", "true");
    depend(g, t, prepare);
  }
}

/* The ids of the generated tasks of `type` (to link to). */
static size_t ids_of_type(const gen *g, const char *type, const char **out,
                          size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < g->ntasks && n < cap; i++)
    if (strcmp(g->tasks[i].type, type) == 0)
      out[n++] = g->tasks[i].id;
  return n;
}

static char *joined(gen *g, const names *s) {
  char *all = jh_yw_join(s->v, s->n, ", ");
  if (all == NULL)
    g->oom = 1;
  return all;
}

/* A server task over entity types (UpdateEntityPropertyExpressions,
 * ComputeCorrelationKeys, ComputeRoleModel, UpdateClassification). */
static gtask *over_entity_types(gen *g, const char *type, int level,
                                const char *display_name, const char *suffix,
                                const names *ets, const char *why,
                                const char *dirty_parent) {
  gtask *t;
  char *all;
  if (ets->n == 0) {
    note(g, level, "%s left out: %s: none", type, why);
    return NULL;
  }
  all = joined(g, ets);
  t = add_task(g, type, level, display_name, xprintf(g, "%s", suffix),
               xprintf(g, "%s: %s", why, all ? all : "?"));
  free(all);
  if (t == NULL)
    return NULL;
  set_list(g, t, "entity_types", ets->v, ets->n);
  if (dirty_parent != NULL) {
    set(g, t, "dirty", "true");
    depend(g, t, dirty_parent);
  }
  return t;
}

/* Everything after the synchronizations. */
static void computations(gen *g, const jconn *jcs, size_t n, int level) {
  const jh_model *m = g->m;
  jh_scaffold_kind k = g->s->kind;
  names ets = {0}, sources = {0}, rts = {0}, classified = {0},
        profile_rts = {0}, profile_ets = {0};
  int any_prov = 0, any = n > 0;
  const char *dirty = NULL;
  const char *ids[256];
  gtask *t;

  for (size_t i = 0; i < n; i++) {
    connector_entity_types(m, jcs[i].c->id, &ets);
    any_prov |= jcs[i].prov;
  }
  for (size_t i = 0; i < m->nresource_types; i++) {
    const jh_resource_type *rt = &m->resource_types[i];
    for (size_t j = 0; j < n; j++)
      if (jcs[j].prov && rt_of(m, rt, jcs[j].c->id)) {
        names_add(&sources, rt->source_entity_type);
        names_add(&rts, rt->id);
      }
  }
  for (size_t i = 0; i < m->nclassification_rules; i++) {
    const jh_resource_type *rt = jh_model_resource_type(
        m, m->classification_rules[i].resource_type);
    for (size_t j = 0; rt != NULL && j < n; j++)
      if (rt_of(m, rt, jcs[j].c->id))
        names_add(&classified, rt->target_entity_type);
  }
  for (size_t i = 0; i < m->nprofile_contexts; i++) {
    const jh_profile_context *pc = &m->profile_contexts[i];
    if (pc->resource_type != NULL && names_has(&rts, pc->resource_type))
      names_add(&profile_rts, pc->resource_type);
    else if (pc->resource_type == NULL &&
             (names_has(&ets, pc->entity_type) ||
              names_has(&sources, pc->entity_type)))
      names_add(&profile_ets, pc->entity_type);
  }
  if (!any)
    return;

  if (k == JH_SCAFFOLD_INCREMENTAL) {
    size_t ns = ids_of_type(g, "SynchronizeTask", ids, NELEM(ids));
    if (ns > 0) {
      t = add_task(g, "SetRecentlyModifiedFlagTask", level,
                   "Set Recently Modified Flag",
                   xprintf(g, "SetRecentlyModifiedFlag"),
                   xprintf(g, "flags what the synchronizations changed "
                              "dirty, for the dirty tasks below"));
      for (size_t i = 0; i < ns; i++)
        depend(g, t, ids[i]);
      dirty = t != NULL ? t->id : NULL;
    }
    level++;
  }
  if (k == JH_SCAFFOLD_INITIALIZATION)
    note(g, level,
         "Step Init_SetAdminProfile left out: jobhost has no "
         "administrator profile task");

  over_entity_types(g, "UpdateEntityPropertyExpressionsTask", level,
                    "Overall - Computed Properties Refresh",
                    "UpdateEntityPropertyExpressions", &ets,
                    "entity types the job's connectors map", dirty);
  over_entity_types(g, "ComputeCorrelationKeysTask", level + 1,
                    "All Correlation Keys", "ComputeCorrelationKeys", &ets,
                    "entity types the job's connectors map", dirty);
  if (!any_prov) {
    note(g, level + 2, "provisioning tasks left out: %s",
         g->s->no_provisioning ? "no_provisioning"
                               : "no connector of the job is provisioned");
  } else {
    t = over_entity_types(
        g, "ComputeRoleModelTask", level + 2, "Provisioning Orders Generation",
        "ComputeRoleModel", &sources,
        "source entity types of the resource types of the job's connectors",
        dirty);
    if (t != NULL && k == JH_SCAFFOLD_INITIALIZATION) {
      set(g, t, "block_provisioning", "false");
      set(g, t, "ignore_historization", "true");
    }
    if (k != JH_SCAFFOLD_INCREMENTAL && k != JH_SCAFFOLD_INITIALIZATION)
      note(g, level + 2,
           "ComputeRiskScoresTask left out: jobhost has no "
           "risk scores");
    for (size_t j = 0; j < n; j++) {
      const jh_connector *c = jcs[j].c;
      names crts = {0};
      char *dn, *all;
      const char *gpo_id;
      gtask *gpo;
      if (!jcs[j].prov)
        continue;
      for (size_t i = 0; i < m->nresource_types; i++)
        if (rt_of(m, &m->resource_types[i], c->id))
          names_add(&crts, m->resource_types[i].id);
      if (crts.n == 0) {
        note(g, level + 3,
             "no provisioning of connector %s: no resource "
             "type targets it",
             c->id);
        continue;
      }
      all = joined(g, &crts);
      dn = xprintf(g, "%s - Provisioning Orders Fetching", c->id);
      gpo = add_task(g, "GenerateProvisioningOrdersTask", level + 3, dn,
                     xprintf(g, "GenerateProvisioningOrders_%s", c->id),
                     xprintf(g, "orders of connector %s (resource types %s)",
                             c->id, all ? all : "?"));
      free(all);
      free(dn);
      if (gpo == NULL)
        continue;
      set(g, gpo, "connector", c->id);
      if (k == JH_SCAFFOLD_INITIALIZATION)
        set(g, gpo, "force_provisioning", "true");
      gpo_id = gpo->id; /* gpo moves when tasks are added */
      for (size_t i = 0; i < m->nconnections; i++) {
        const jh_connection *cn = &m->connections[i];
        if (!same_connector(cn->connector, c->id))
          continue;
        if (!fulfills_through(g, cn)) {
          if (cn->deactivation == JH_DEACTIVATE_FULFILL)
            note(g, level + 4,
                 "no fulfillment through connection %s: "
                 "deactivation_export_fulfill: Fulfill",
                 cn->id);
          continue;
        }
        dn = xprintf(g, "%s - Automated Provisioning (%s)", c->id, cn->id);
        t = add_task(g, "FulfillTask", level + 4, dn,
                     xprintf(g, "Fulfill_%s_%s", c->id, cn->id),
                     xprintf(g,
                             "fulfillment through connection %s (package "
                             "%s); skipped when %s wrote no order",
                             cn->id, cn->package, gpo_id));
        free(dn);
        if (t == NULL)
          continue;
        t->agent = xstrdup(g, c->agent);
        t->continue_on_error = 1;
        set(g, t, "connector", c->id);
        set(g, t, "connection", cn->id);
        set(g, t, "open_id_client", "Job");
        if (k == JH_SCAFFOLD_INITIALIZATION)
          set(g, t, "ignore_historization", "true");
        depend(g, t, gpo_id);
      }
    }
  }
  if (k == JH_SCAFFOLD_INITIALIZATION) {
    note(g, level + 5,
         "the later cycles of the initialization job (computed "
         "properties, role model, orders and fulfillment "
         "again) left out: run the job again");
    return;
  }
  if (classified.n > 0)
    over_entity_types(g, "UpdateClassificationTask", level + 5,
                      "Update Resources Classification", "UpdateClassification",
                      &classified,
                      "target entity types of the classified resource types",
                      dirty);
  if (profile_rts.n + profile_ets.n > 0 && any_prov) {
    size_t nf = ids_of_type(g, "FulfillTask", ids, NELEM(ids));
    t = add_task(g, "SetInternalUserProfilesTask", level + 6,
                 "Overall - Profiles Update",
                 xprintf(g, "SetInternalUserProfiles"),
                 xprintf(g, "profile rule contexts of the job's resource "
                            "and entity types; skipped when no fulfillment "
                            "ran and changed something"));
    set_list(g, t, "entity_types", profile_ets.v, profile_ets.n);
    set_list(g, t, "resource_types", profile_rts.v, profile_rts.n);
    for (size_t i = 0; i < nf; i++)
      depend(g, t, ids[i]);
  }
  if (k == JH_SCAFFOLD_INCREMENTAL)
    return;
  note(g, level + 7,
       "UpdateParametersContextDisplayNamesTask, "
       "SendRoleModelNotificationsTask and MaintainIndexesTask "
       "left out: jobhost has no such task types");
}

/* ---- the scaffold's children ---- */

/* The occurrence-th generated task whose id or type is `ref`, or -1. */
static long find_task(const gen *g, const char *ref, int occurrence) {
  int seen = 0;
  for (size_t i = 0; i < g->ntasks; i++)
    if (strcmp(g->tasks[i].id, ref) == 0)
      return (long)i;
  for (size_t i = 0; i < g->ntasks; i++)
    if (strcmp(g->tasks[i].type, ref) == 0 && ++seen == occurrence)
      return (long)i;
  return -1;
}

static void shift_levels(gen *g, int from) {
  for (size_t i = 0; i < g->ntasks; i++)
    if (g->tasks[i].level >= from)
      g->tasks[i].level++;
  for (size_t i = 0; i < g->nnotes; i++)
    if (g->notes[i].level >= from)
      g->notes[i].level++;
}

static void apply_add(gen *g, const jh_scaffold_add *a) {
  const char *ref = a->after != NULL ? a->after : a->before;
  long at = find_task(g, ref, a->occurrence > 0 ? a->occurrence : 1);
  int level;
  gtask *t;

  if (at < 0) {
    fail(g, a->loc,
         "add_tasks: the generated job has no task '%s' (occurrence %d; "
         "an id or a task type of the job)",
         JH_Q(ref), a->occurrence > 0 ? a->occurrence : 1);
    return;
  }
  if (find_task(g, a->id, 1) >= 0) {
    fail(g, a->loc, "add_tasks: task id '%s' is already in the generated job",
         JH_Q(a->id));
    return;
  }
  level = g->tasks[at].level + (a->after != NULL ? 1 : 0);
  shift_levels(g, level);
  if (grow(g, &g->tasks, g->ntasks, sizeof(*g->tasks)) != 0)
    return;
  t = &g->tasks[g->ntasks++];
  t->id = xstrdup(g, a->id);
  t->type = xstrdup(g, a->type);
  t->display_name = xstrdup(g, a->display_name);
  t->level = level;
  t->comment = xprintf(g, "add_tasks: %s %s", a->after ? "after" : "before",
                       ref);
  t->params = calloc(a->nparams + 1, sizeof(*t->params));
  if (t->params == NULL) {
    g->oom = 1;
    return;
  }
  for (size_t i = 0; i < a->nparams; i++) {
    gparam *p = &t->params[t->nparams++];
    p->key = xstrdup(g, a->params[i].key);
    p->text = xstrdup(g, a->params[i].text);
    if (a->params[i].text == NULL && a->params[i].nitems > 0) {
      p->items = calloc(a->params[i].nitems, sizeof(*p->items));
      if (p->items == NULL) {
        g->oom = 1;
        return;
      }
      for (size_t j = 0; j < a->params[i].nitems; j++)
        p->items[p->nitems++] = xstrdup(g, a->params[i].items[j]);
    }
  }
}

static void apply_link(gen *g, const jh_scaffold_link *l) {
  int co = l->child_occurrence > 0 ? l->child_occurrence : 1;
  int po = l->parent_occurrence > 0 ? l->parent_occurrence : 1;
  long child = find_task(g, l->task, co),
       parent = find_task(g, l->depends_on, po);
  if (child < 0 || parent < 0) {
    fail(g, l->loc,
         "link_depend_tasks: the generated job has no task '%s' "
         "(occurrence %d; an id or a task type of the job)",
         JH_Q(child < 0 ? l->task : l->depends_on), child < 0 ? co : po);
    return;
  }
  if (g->tasks[parent].level >= g->tasks[child].level) {
    fail(g, l->loc,
         "link_depend_tasks: '%s' (level %d) cannot depend on '%s' (level "
         "%d): a parent must come at a lower level",
         JH_Q(g->tasks[child].id), g->tasks[child].level,
         JH_Q(g->tasks[parent].id), g->tasks[parent].level);
    return;
  }
  depend(g, &g->tasks[child], g->tasks[parent].id);
}

/* ---- writing ---- */

/* A YAML scalar: plain when it is made of letters, digits, '_', '-' and
 * '.' and starts with a letter or a digit, else double-quoted. */
static void put_scalar(FILE *o, const char *s) {
  int plain = (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
              (s[0] >= '0' && s[0] <= '9');
  for (const char *q = s; plain && *q; q++)
    plain = (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
            (*q >= '0' && *q <= '9') || *q == '_' || *q == '-' || *q == '.';
  if (plain) {
    fputs(s, o);
    return;
  }
  fputc('"', o);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(o, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(o, "\\x%02x", ch);
    else
      fputc(ch, o);
  }
  fputc('"', o);
}

/* A YAML double-quoted scalar. */
static void put_quoted(FILE *o, const char *s) {
  fputc('"', o);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(o, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(o, "\\x%02x", ch);
    else
      fputc(ch, o);
  }
  fputc('"', o);
}

static void put_task(FILE *o, const gtask *t, const char *ind) {
  if (t->comment != NULL)
    fprintf(o, "%s# %s\n", ind, t->comment);
  fprintf(o, "%s- id: %s\n%s  type: %s\n%s  level: %d\n", ind, t->id, ind,
          t->type, ind, t->level);
  if (t->display_name != NULL) {
    fprintf(o, "%s  display_name: ", ind);
    put_quoted(o, t->display_name);
    fputc('\n', o);
  }
  if (t->agent != NULL)
    fprintf(o, "%s  agent: %s\n", ind, t->agent);
  if (t->continue_on_error)
    fprintf(o, "%s  continue_on_error: true\n", ind);
  for (size_t i = 0; i < t->nparams; i++) {
    const gparam *p = &t->params[i];
    fprintf(o, "%s  %s: ", ind, p->key);
    if (p->text != NULL) {
      put_scalar(o, p->text);
    } else {
      fputc('[', o);
      for (size_t j = 0; j < p->nitems; j++) {
        if (j > 0)
          fputs(", ", o);
        put_scalar(o, p->items[j]);
      }
      fputc(']', o);
    }
    fputc('\n', o);
  }
  if (t->ndeps > 0) {
    fprintf(o, "%s  depends_on: [", ind);
    for (size_t j = 0; j < t->ndeps; j++)
      fprintf(o, "%s%s", j > 0 ? ", " : "", t->deps[j]);
    fputs("]\n", o);
  }
}

static void put_notes(FILE *o, gen *g, int below, int *done, const char *ind) {
  for (size_t i = 0; i < g->nnotes; i++)
    if (!done[i] && g->notes[i].level < below) {
      fprintf(o, "%s# %s\n", ind, g->notes[i].text);
      done[i] = 1;
    }
}

static int cmp_level(const gtask *a, const gtask *b) {
  return (a->level > b->level) - (a->level < b->level);
}

static int write_yaml(gen *g, char **yaml) {
  const jh_scaffold *s = g->s;
  char *buf = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&buf, &len);
  int *done = calloc(g->nnotes + 1, sizeof(*done));
  const char *ind = s->do_not_create_job ? "  " : "    ";

  if (o == NULL || done == NULL) {
    if (o != NULL)
      fclose(o);
    free(buf);
    free(done);
    return -ENOMEM;
  }
  /* stable insertion sort by level: document order within a level */
  for (size_t i = 1; i < g->ntasks; i++) {
    gtask t = g->tasks[i];
    size_t j = i;
    for (; j > 0 && cmp_level(&g->tasks[j - 1], &t) > 0; j--)
      g->tasks[j] = g->tasks[j - 1];
    g->tasks[j] = t;
  }
  if (s->do_not_create_job) {
    fprintf(o,
            "# do_not_create_job: the tasks of scaffold %s only, to go "
            "into a job's tasks:\ntasks:\n",
            jh_scaffold_kind_name(s->kind));
  } else {
    fprintf(o, "job:\n  id: %s\n", g->job_id);
    if (s->display_name != NULL) {
      fputs("  display_name: ", o);
      put_quoted(o, s->display_name);
      fputc('\n', o);
    }
    if (s->kind == JH_SCAFFOLD_AGENT_COMPLETE && s->agent != NULL)
      fprintf(o, "  agent: %s\n", s->agent);
    else if (s->connector != NULL) {
      const jh_connector *c = jh_model_connector(g->m, s->connector);
      if (c != NULL && c->agent != NULL)
        fprintf(o, "  agent: %s\n", c->agent);
    }
    if (s->schedule != NULL) {
      fputs("  schedule: ", o);
      put_quoted(o, s->schedule);
      fputc('\n', o);
    }
    fputs("  tasks:\n", o);
  }
  for (size_t i = 0; i < g->ntasks; i++) {
    put_notes(o, g, g->tasks[i].level, done, ind);
    put_task(o, &g->tasks[i], ind);
  }
  put_notes(o, g, 1 << 30, done, ind);
  free(done);
  if (fclose(o) != 0) {
    free(buf);
    return -ENOMEM;
  }
  *yaml = buf;
  return 0;
}

/* ---- public ---- */

char *jh_scaffold_job_id(const jh_scaffold *s) {
  char *id = NULL;
  int rc;
  if (s->job_id != NULL)
    return strdup(s->job_id);
  switch (s->kind) {
  case JH_SCAFFOLD_COMPLETE:
    rc = asprintf(&id, "%s_Synchronize_Complete_Scaffolding", s->connector);
    break;
  case JH_SCAFFOLD_INCREMENTAL:
    rc = asprintf(&id, "%s_Synchronize_Incremental_Scaffolding", s->connector);
    break;
  case JH_SCAFFOLD_AGENT_COMPLETE:
    rc = asprintf(&id, "%s_Synchronize_Complete_Scaffolding", s->agent);
    break;
  default:
    rc = asprintf(&id, "InitializationJob");
    break;
  }
  return rc < 0 ? NULL : id;
}

static void free_task(gtask *t) {
  free(t->id);
  free(t->type);
  free(t->display_name);
  free(t->agent);
  free(t->comment);
  for (size_t i = 0; i < t->nparams; i++) {
    free(t->params[i].key);
    free(t->params[i].text);
    for (size_t j = 0; j < t->params[i].nitems; j++)
      free(t->params[i].items[j]);
    free(t->params[i].items);
  }
  free(t->params);
  for (size_t i = 0; i < t->ndeps; i++)
    free(t->deps[i]);
  free(t->deps);
}

/* The connectors of the job, or -1 after fail(). */
static long job_connectors(gen *g, jconn *out, size_t cap) {
  const jh_scaffold *s = g->s;
  const jh_model *m = g->m;
  size_t n = 0;

  if (s->kind == JH_SCAFFOLD_COMPLETE || s->kind == JH_SCAFFOLD_INCREMENTAL) {
    const jh_connector *c = s->connector != NULL
                                ? jh_model_connector(m, s->connector)
                                : NULL;
    if (c == NULL) {
      fail(g, s->loc,
           "scaffold %s: unknown connector '%s': expected a connector "
           "declared under 'connectors:'",
           jh_scaffold_kind_name(s->kind), JH_Q(s->connector));
      return -1;
    }
    take_connector(g, c, out, &n, cap);
    if (n == 0)
      fail(g, s->loc,
           "scaffold %s: connector '%s' is %s: the job would be empty",
           jh_scaffold_kind_name(s->kind), JH_Q(c->id),
           c->deactivated ? "deactivated" : "NotUsed by this kind of job");
    return n == 0 ? -1 : (long)n;
  }
  for (size_t i = 0; i < m->nconnectors; i++) {
    const jh_connector *c = &m->connectors[i];
    if (s->kind == JH_SCAFFOLD_AGENT_COMPLETE &&
        (c->agent == NULL || strcmp(c->agent, s->agent) != 0))
      continue;
    take_connector(g, c, out, &n, cap);
  }
  if (n == 0) {
    if (s->kind == JH_SCAFFOLD_AGENT_COMPLETE)
      fail(g, s->loc,
           "scaffold agent-complete: no connector of agent '%s' to "
           "synchronize (a connector's 'agent:' names it)",
           JH_Q(s->agent));
    else
      fail(g, s->loc,
           "scaffold initialization: the model has no connector "
           "to load");
    return -1;
  }
  return (long)n;
}

int jh_scaffold_generate(const jh_scaffold *s, const jh_model *m,
                         const jh_registry *reg, char **yaml, char *err,
                         size_t errsize, jh_loc *where) {
  gen g;
  jconn jcs[256];
  long n;
  int rc = 0;

  *yaml = NULL;
  memset(&g, 0, sizeof(g));
  g.s = s;
  g.m = m;
  g.reg = reg;
  g.err = err;
  g.errsize = errsize;
  g.where = where;
  if (errsize > 0)
    err[0] = '\0';
  g.job_id = jh_scaffold_job_id(s);
  if (g.job_id == NULL)
    return -ENOMEM;

  n = job_connectors(&g, jcs, NELEM(jcs));
  if (n > 0) {
    if (s->kind == JH_SCAFFOLD_INITIALIZATION)
      note(&g, -1,
           "CreateDatabaseViewsTask left out: the identity store "
           "needs no views");
    for (long i = 0; i < n; i++)
      if (jcs[i].sync)
        synchronization(&g, &jcs[i], 0);
      else
        note(&g, 0, "synchronization of connector %s left out: %s",
             jcs[i].c->id,
             s->no_synchronization ? "no_synchronization" : "OnlyProvisioning");
    computations(&g, jcs, (size_t)n, 3);
  }
  for (size_t i = 0; !g.failed && !g.oom && i < s->nadds; i++)
    apply_add(&g, &s->adds[i]);
  for (size_t i = 0; !g.failed && !g.oom && i < s->nlinks; i++)
    apply_link(&g, &s->links[i]);
  if (!g.failed && !g.oom && g.ntasks == 0)
    fail(&g, s->loc,
         "scaffold %s: no task to generate (every task was left out: "
         "see no_provisioning, no_synchronization and the connectors' "
         "complete_job/incremental_job)",
         jh_scaffold_kind_name(s->kind));
  if (g.oom)
    rc = -ENOMEM;
  else if (g.failed)
    rc = -1;
  else
    rc = write_yaml(&g, yaml);
  for (size_t i = 0; i < g.ntasks; i++)
    free_task(&g.tasks[i]);
  free(g.tasks);
  for (size_t i = 0; i < g.nnotes; i++)
    free(g.notes[i].text);
  free(g.notes);
  free(g.job_id);
  return rc;
}
