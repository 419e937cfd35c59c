/*
 * pipeline.c — see pipeline.h.
 *
 * Each file is composed into a libyaml document (yaml_parser_load), so that
 * every node keeps the mark where it starts; a walk over the document then
 * fills a jh_pipeline and reports every problem it meets as a diagnostic
 * (libyaml marks are 0-based, diagnostics 1-based). Nothing leaves this
 * file on error: the half-built pipeline is freed.
 *
 * Aliases: libyaml composes an alias as a second reference to the anchored
 * node, so a small file can describe a huge (or, with an alias inside its
 * own anchor, endless) tree. Before walking a document we count the node
 * visits a full walk would make and refuse the file when aliases add more
 * than ALIAS_EXTRA_MAX of them; the walk is then bounded.
 */
#include "config.h"

#include "pipeline.h"
#include "param_check.h"
#include "model_load.h"
#include "scaffold.h"
#include "strindex.h"
#include "yaml_walk.h"
#include "cron.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

/* Node visits aliases may add to a document beyond the nodes it holds. */
#define ALIAS_EXTRA_MAX 10000

/* Largest pipeline file read (bytes). */
#define PIPELINE_FILE_MAX (256ULL << 20)

#define DEFAULT_MAX_PARALLEL 5
#define DEFAULT_RETRY_DELAY_MS 1000L

static const char *const top_keys[] = {"version", "include", "job",
                                       "allow_include"};
static const char *const job_keys[] = {"id",
                                       "display_name",
                                       "agent",
                                       "schedule",
                                       "cron_time_zone",
                                       "catch_up",
                                       "log_level",
                                       "user_start_denied",
                                       "is_incremental",
                                       "is_connector_job",
                                       "is_initialization_job",
                                       "max_parallel",
                                       "ordering",
                                       "level_overflow",
                                       "tasks",
                                       "scaffold"};
static const char *const cron_zones[] = {"UTC", "local"};
static const char *const task_keys[] = {
    "id",      "type",    "level",       "depends_on",   "continue_on_error",
    "timeout", "retries", "retry_delay", "display_name", "agent"};
static const char *const orderings[] = {"levels", "dependencies"};
static const char *const overflows[] = {"levels", "window"};

/* A file being read, on the include chain (a list on the C stack). */
typedef struct chain_link {
  const char *real;            /* canonical path, to detect cycles */
  const char *shown;           /* path as composed, for messages */
  const struct chain_link *up; /* the file that included this one */
} chain_link;

typedef struct ctx {
  jh_yw yw; /* diagnostics and out-of-memory flag */
  const jh_registry *reg;
  jh_pipeline *p; /* being built; owned by jh_pipeline_load */
  char **seen;    /* canonical paths already read; owned */
  size_t nseen;
  jh_loc *id_loc;    /* where each task's id is written (line 0: nowhere) */
  jh_loc *level_loc; /* where each task's level is written */
  char **allowed;    /* canonical folders whose files may be included: the
                        top file's first, then --allow-include and
                        allow_include ones; owned */
  size_t nallowed;
  const char *top_dir;   /* canonical folder of the top file (in allowed) */
  jh_scaffold *scaffold; /* the job's `scaffold:`, expanded once every file
                            is read; NULL when none */
} ctx;

/* ---- schedule ---- */

const char *const jh_job_log_levels[JH_JOB_LOG_LEVELS] = {
    "trace", "debug", "information", "warning", "error", "critical", "none"};

/* ---- task types and parameters ---- */

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of every task type in the registry, sorted; malloc'd array of
 * borrowed strings. */
static const char **task_type_names(ctx *c, size_t *n) {
  size_t count = 0, k = 0;
  const char **names;
  for (size_t i = 0; i < c->reg->nplugins; i++) {
    const jobhost_task_type *t = c->reg->plugins[i].desc->task_types;
    for (size_t j = 0; t != NULL && t[j].name != NULL; j++)
      count++;
  }
  names = jh_yw_xcalloc(&c->yw, count, sizeof(*names));
  if (names == NULL)
    return NULL;
  for (size_t i = 0; i < c->reg->nplugins; i++) {
    const jobhost_task_type *t = c->reg->plugins[i].desc->task_types;
    for (size_t j = 0; t != NULL && t[j].name != NULL; j++)
      names[k++] = t[j].name;
  }
  qsort(names, count, sizeof(*names), cmp_names);
  *n = count;
  return names;
}

static void unknown_task_type(ctx *c, const jh_yfile *f, const yaml_node_t *n) {
  size_t count = 0;
  const char **names = task_type_names(c, &count);
  const char *hint;
  char *all;

  if (names == NULL)
    return;
  if (count == 0) {
    jh_yw_err_node(&c->yw, f, n,
                   "unknown task type '%s': no plugin providing task "
                   "types was loaded (see 'jobhost plugins')",
                   JH_Q(jh_yw_scalar(n)));
    free(names);
    return;
  }
  all = jh_yw_join(names, count, ", ");
  if (all == NULL)
    c->yw.oom = 1;
  hint = jh_yw_closest(jh_yw_scalar(n), names, count);
  if (hint != NULL)
    jh_yw_err_node(&c->yw, f, n,
                   "unknown task type '%s' (did you mean '%s'?); task "
                   "types: %s",
                   JH_Q(jh_yw_scalar(n)), hint, all ? all : "?");
  else
    jh_yw_err_node(&c->yw, f, n, "unknown task type '%s'; task types: %s",
                   JH_Q(jh_yw_scalar(n)), all ? all : "?");
  free(all);
  free(names);
}

static const jobhost_param *schema_param(const jobhost_task_type *tt,
                                         const char *name) {
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    if (strcmp(tt->params[i].name, name) == 0)
      return &tt->params[i];
  return NULL;
}

static void value_clear(jh_value *v) {
  free(v->key);
  free(v->text);
  for (size_t i = 0; v->items != NULL && i < v->nitems; i++)
    free(v->items[i]);
  free(v->items);
  memset(v, 0, sizeof(*v));
}

/* Check a parameter value against its schema entry and fill *out.
 * Returns 0, or -1 with *out cleared. */
static int param_value(ctx *c, const jh_yfile *f, const jobhost_param *sp,
                       yaml_node_t *n, jh_value *out) {
  const char *s;
  long long ll;
  size_t choice;
  int b, rc = 0;
  char got[GOT_SIZE], num[32];

  memset(out, 0, sizeof(*out));
  out->type = sp->type;
  out->loc = jh_yw_node_loc(f, n);
  switch (sp->type) {
  case JOBHOST_PARAM_STRING:
    rc = jh_yw_want_string(&c->yw, f, n, sp->name, &out->text);
    break;
  case JOBHOST_PARAM_PATH:
    rc = jh_yw_want_path(&c->yw, f, n, sp->name, &out->text);
    break;
  case JOBHOST_PARAM_ENTITY_TYPE: /* checked against the model later */
    rc = jh_yw_want_string(&c->yw, f, n, sp->name, &out->text);
    break;
  case JOBHOST_PARAM_DURATION: {
    long ms;
    rc = jh_yw_want_duration(&c->yw, f, n, sp->name, &ms);
    if (rc == 0)
      out->text = jh_yw_xstrdup(&c->yw, jh_yw_scalar(n));
    break;
  }
  case JOBHOST_PARAM_INT:
    s = jh_yw_want_scalar(&c->yw, f, n, sp->name, "an integer");
    if (s == NULL) {
      rc = -1;
    } else if (jh_yw_parse_ll(s, &ll) != 0) {
      jh_yw_err_node(&c->yw, f, n, "expected an integer for '%s', got %s",
                     sp->name, jh_yw_describe(n, got, sizeof(got)));
      rc = -1;
    } else {
      snprintf(num, sizeof(num), "%lld", ll);
      out->text = jh_yw_xstrdup(&c->yw, num);
    }
    break;
  case JOBHOST_PARAM_BOOL:
    rc = jh_yw_want_bool(&c->yw, f, n, sp->name, &b);
    if (rc == 0)
      out->text = jh_yw_xstrdup(&c->yw, b ? "true" : "false");
    break;
  case JOBHOST_PARAM_ENUM: {
    size_t nch = 0;
    while (sp->choices != NULL && sp->choices[nch] != NULL)
      nch++;
    rc = jh_yw_want_choice(&c->yw, f, n, sp->name, sp->choices, nch, &choice);
    if (rc == 0)
      out->text = jh_yw_xstrdup(&c->yw, sp->choices[choice]);
    break;
  }
  case JOBHOST_PARAM_LIST: {
    long count;
    yaml_node_t **items = jh_yw_want_list(&c->yw, f, n, sp->name, &count);
    if (count < 0) {
      rc = -1;
    } else {
      out->nitems = (size_t)count;
      rc = jh_yw_copy_items(&c->yw, f, items, out->nitems, &out->items, NULL);
    }
    free(items);
    break;
  }
  }
  if (rc == 0 && !c->yw.oom) {
    char why[512];
    size_t bad;
    if (jh_param_check(sp, out->text, out->items, out->nitems, &bad, why,
                       sizeof(why)) != 0) {
      yaml_node_t *at = n;
      if (bad != (size_t)-1 && n->type == YAML_SEQUENCE_NODE)
        at = yaml_document_get_node(f->doc, n->data.sequence.items.start[bad]);
      jh_yw_err_node(&c->yw, f, at, "%s", why);
      rc = -1;
    }
  }
  out->key = jh_yw_xstrdup(&c->yw, sp->name);
  if (rc != 0 || c->yw.oom) {
    value_clear(out);
    return -1;
  }
  return 0;
}

/* ---- tasks ---- */

static void task_key_unknown(ctx *c, const jh_yfile *f, const jh_yentry *e,
                             const jobhost_task_type *tt) {
  size_t n = NELEM(task_keys), k = 0;
  const char **cands;
  const char *hint;
  char *host, *params;

  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    n++;
  cands = jh_yw_xcalloc(&c->yw, n, sizeof(*cands));
  if (cands == NULL)
    return;
  for (size_t i = 0; i < NELEM(task_keys); i++)
    cands[k++] = task_keys[i];
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    cands[k++] = tt->params[i].name;
  hint = jh_yw_closest(e->key, cands, n);
  if (hint != NULL) {
    jh_yw_err_node(&c->yw, f, e->knode, "unknown key '%s' (did you mean '%s'?)",
                   JH_Q(e->key), hint);
    free(cands);
    return;
  }
  host = jh_yw_join(cands, NELEM(task_keys), ", ");
  params = jh_yw_join(cands + NELEM(task_keys), n - NELEM(task_keys), ", ");
  if (host == NULL || params == NULL)
    c->yw.oom = 1;
  if (n > NELEM(task_keys))
    jh_yw_err_node(&c->yw, f, e->knode,
                   "unknown key '%s'; expected a task key (%s) or "
                   "a parameter of %s (%s)",
                   JH_Q(e->key), host ? host : "?", tt->name,
                   params ? params : "?");
  else
    jh_yw_err_node(&c->yw, f, e->knode,
                   "unknown key '%s'; expected a task key (%s); "
                   "%s takes no parameter",
                   JH_Q(e->key), host ? host : "?", tt->name);
  free(host);
  free(params);
  free(cands);
}

static void task_depends(ctx *c, const jh_yfile *f, jh_task_def *t,
                         yaml_node_t *n) {
  long count;
  yaml_node_t **items = jh_yw_want_list(&c->yw, f, n, "depends_on", &count);
  if (count >= 0) {
    t->ndepends = (size_t)count;
    jh_yw_copy_items(&c->yw, f, items, t->ndepends, &t->depends_on,
                     &t->depends_loc);
  }
  free(items);
}

/* A host-level key of a task; returns 0 when `e` is not one. */
static int task_host_key(ctx *c, const jh_yfile *f, jh_task_def *t, size_t idx,
                         const jh_yentry *e) {
  yaml_node_t *v = e->vnode;
  if (strcmp(e->key, "id") == 0) {
    if (jh_yw_want_ident(&c->yw, f, v, "id", &t->id) == 0)
      c->id_loc[idx] = jh_yw_node_loc(f, v);
  } else if (strcmp(e->key, "type") == 0) {
    /* resolved before the other keys */
  } else if (strcmp(e->key, "level") == 0) {
    if (jh_yw_want_int(&c->yw, f, v, "level", 0, &t->level) == 0)
      c->level_loc[idx] = jh_yw_node_loc(f, v);
  } else if (strcmp(e->key, "depends_on") == 0) {
    task_depends(c, f, t, v);
  } else if (strcmp(e->key, "continue_on_error") == 0) {
    jh_yw_want_bool(&c->yw, f, v, "continue_on_error", &t->continue_on_error);
  } else if (strcmp(e->key, "timeout") == 0) {
    jh_yw_want_duration(&c->yw, f, v, "timeout", &t->timeout_ms);
  } else if (strcmp(e->key, "retries") == 0) {
    jh_yw_want_int(&c->yw, f, v, "retries", 0, &t->retries);
  } else if (strcmp(e->key, "retry_delay") == 0) {
    jh_yw_want_duration(&c->yw, f, v, "retry_delay", &t->retry_delay_ms);
  } else if (strcmp(e->key, "display_name") == 0) {
    jh_yw_want_string(&c->yw, f, v, "display_name", &t->display_name);
  } else if (strcmp(e->key, "agent") == 0) {
    jh_yw_want_string(&c->yw, f, v, "agent", &t->agent);
  } else {
    return 0;
  }
  return 1;
}

static void task_required(ctx *c, const jh_yfile *f, const jh_task_def *t,
                          const yaml_node_t *n) {
  const jobhost_task_type *tt = t->task_type;
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++) {
    const jobhost_param *sp = &tt->params[i];
    if (sp->required && jh_task_value(t, sp->name) == NULL)
      jh_yw_err_node(&c->yw, f, n,
                     "missing required parameter '%s' in task '%s' (%s: "
                     "%s)",
                     sp->name, JH_Q(t->id), tt->name,
                     sp->help ? sp->help : jobhost_param_type_name(sp->type));
  }
}

/* Resolve the task's type (first, so that parameters can be checked). */
static void task_type(ctx *c, const jh_yfile *f, jh_task_def *t,
                      const jh_yentry *e) {
  if (jh_yw_want_string(&c->yw, f, e->vnode, "type", &t->type) != 0)
    return;
  t->task_type = jh_registry_task_type(c->reg, t->type, NULL);
  if (t->task_type == NULL)
    unknown_task_type(c, f, e->vnode);
}

static void parse_task(ctx *c, const jh_yfile *f, yaml_node_t *n, size_t idx) {
  jh_task_def *t = &c->p->tasks[idx];
  jh_yentry *es;
  const jh_yentry *te;
  size_t ne;

  t->level = -1;
  t->retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
  t->loc = jh_yw_node_loc(f, n);
  es = jh_yw_want_mapping(&c->yw, f, n,
                          "a task (a mapping with 'id' and 'type')", &ne);
  if (es == NULL)
    return;
  te = jh_yw_find_entry(es, ne, "type");
  if (te != NULL)
    task_type(c, f, t, te);
  t->params = jh_yw_xcalloc(&c->yw, ne, sizeof(*t->params));
  for (size_t i = 0; i < ne && t->params != NULL; i++) {
    const jobhost_param *sp;
    if (task_host_key(c, f, t, idx, &es[i]))
      continue;
    if (t->task_type == NULL)
      continue; /* type missing or unknown: already reported */
    sp = schema_param(t->task_type, es[i].key);
    if (sp == NULL)
      task_key_unknown(c, f, &es[i], t->task_type);
    else if (param_value(c, f, sp, es[i].vnode, &t->params[t->nparams]) == 0)
      t->nparams++;
  }
  if (jh_yw_find_entry(es, ne, "id") == NULL)
    jh_yw_err_node(&c->yw, f, n,
                   "missing 'id' in task: expected a unique task "
                   "identifier");
  if (te == NULL)
    jh_yw_err_node(&c->yw, f, n,
                   "missing 'type' in task '%s': expected a task type "
                   "such as ExportTask",
                   JH_Q(t->id));
  if (t->task_type != NULL)
    task_required(c, f, t, n);
  free(es);
}

static void parse_tasks(ctx *c, const jh_yfile *f, yaml_node_t *n) {
  yaml_node_item_t *start;
  size_t len;
  char got[GOT_SIZE];

  if (n->type != YAML_SEQUENCE_NODE) {
    jh_yw_err_node(&c->yw, f, n,
                   "expected a non-empty sequence of tasks for 'tasks', "
                   "got %s",
                   jh_yw_describe(n, got, sizeof(got)));
    return;
  }
  start = n->data.sequence.items.start;
  len = (size_t)(n->data.sequence.items.top - start);
  if (len == 0) {
    jh_yw_err_node(&c->yw, f, n, "expected at least one task in 'tasks'");
    return;
  }
  c->p->tasks = jh_yw_xcalloc(&c->yw, len, sizeof(*c->p->tasks));
  c->id_loc = jh_yw_xcalloc(&c->yw, len, sizeof(*c->id_loc));
  c->level_loc = jh_yw_xcalloc(&c->yw, len, sizeof(*c->level_loc));
  if (c->p->tasks == NULL || c->id_loc == NULL || c->level_loc == NULL)
    return;
  c->p->ntasks = len;
  for (size_t i = 0; i < len; i++)
    parse_task(c, f, yaml_document_get_node(f->doc, start[i]), i);
}

/* ---- scaffold (doc/scaffold.md) ---- */

static void parse_scaffold(ctx *c, const jh_yfile *f, yaml_node_t *n) {
  c->scaffold = jh_yw_xcalloc(&c->yw, 1, sizeof(*c->scaffold));
  if (c->scaffold != NULL)
    jh_scaffold_parse(&c->yw, f, n, c->scaffold);
}

/* Read the generated job's tasks as if they were written where the
 * scaffold is: every node of the generated text is given its place. */
static void scaffold_tasks(ctx *c, const char *text, jh_loc at) {
  yaml_parser_t ps;
  yaml_document_t doc;
  yaml_node_t *root, *job = NULL, *tasks = NULL;
  jh_yfile f = {at.file, &doc, NULL, 0};

  if (!yaml_parser_initialize(&ps)) {
    c->yw.oom = 1;
    return;
  }
  yaml_parser_set_input_string(&ps, (const unsigned char *)text, strlen(text));
  if (!yaml_parser_load(&ps, &doc)) {
    jh_yw_err_at(&c->yw, at,
                 "internal error: the generated job is not YAML (%s)",
                 ps.problem ? ps.problem : "?");
    yaml_parser_delete(&ps);
    return;
  }
  yaml_parser_delete(&ps);
  for (yaml_node_t *n = doc.nodes.start; n < doc.nodes.top; n++) {
    n->start_mark.line = n->end_mark.line = (size_t)(at.line - 1);
    n->start_mark.column = n->end_mark.column = (size_t)(at.column - 1);
  }
  root = yaml_document_get_root_node(&doc);
  for (yaml_node_pair_t *e = root ? root->data.mapping.pairs.start : NULL;
       e != NULL && e < root->data.mapping.pairs.top; e++)
    if (strcmp(jh_yw_scalar(yaml_document_get_node(&doc, e->key)), "job") == 0)
      job = yaml_document_get_node(&doc, e->value);
  for (yaml_node_pair_t *e = job ? job->data.mapping.pairs.start : NULL;
       e != NULL && e < job->data.mapping.pairs.top; e++)
    if (strcmp(jh_yw_scalar(yaml_document_get_node(&doc, e->key)), "tasks") ==
        0)
      tasks = yaml_document_get_node(&doc, e->value);
  if (tasks != NULL)
    parse_tasks(c, &f, tasks);
  else
    jh_yw_err_at(&c->yw, at, "internal error: the generated job has no tasks");
  yaml_document_delete(&doc);
}

/* Generate the job of the scaffold from the model, once it is checked. */
static void expand_scaffold(ctx *c) {
  jh_pipeline *p = c->p;
  jh_scaffold *s = c->scaffold;
  char err[1024], *yaml = NULL;
  jh_loc where = s->loc;
  int rc;

  if (p->job_id != NULL && s->job_id == NULL &&
      (s->job_id = jh_yw_xstrdup(&c->yw, p->job_id)) == NULL)
    return;
  if (p->display_name != NULL && s->display_name == NULL &&
      (s->display_name = jh_yw_xstrdup(&c->yw, p->display_name)) == NULL)
    return;
  if (p->schedule != NULL && s->schedule == NULL &&
      (s->schedule = jh_yw_xstrdup(&c->yw, p->schedule)) == NULL)
    return;
  if (p->job_id == NULL && (p->job_id = jh_scaffold_job_id(s)) == NULL) {
    c->yw.oom = 1;
    return;
  }
  rc = jh_scaffold_generate(s, p->model, c->reg, &yaml, err, sizeof(err),
                            &where);
  if (rc == -ENOMEM) {
    c->yw.oom = 1;
    return;
  }
  if (rc < 0) {
    jh_yw_err_at(&c->yw, where, "%s", err);
    return;
  }
  scaffold_tasks(c, yaml, s->loc);
  p->scaffold_yaml = yaml;
  /* the job runs on the agent of its connector, or the agent's */
  if (p->agent == NULL) {
    const jh_connector *jc = s->connector != NULL
                                 ? jh_model_connector(p->model, s->connector)
                                 : NULL;
    const char *agent = s->kind == JH_SCAFFOLD_AGENT_COMPLETE ? s->agent
                        : jc != NULL                          ? jc->agent
                                                              : NULL;
    if (agent != NULL && s->kind != JH_SCAFFOLD_INITIALIZATION)
      p->agent = jh_yw_xstrdup(&c->yw, agent);
  }
}

/* ---- job ---- */

static void job_schedule(ctx *c, const jh_yfile *f, yaml_node_t *v) {
  char err[JH_CRON_ERR_SIZE];
  jh_cron cron;
  int col = 1;
  if (jh_yw_want_string(&c->yw, f, v, "schedule", &c->p->schedule) != 0)
    return;
  if (jh_cron_parse(c->p->schedule, &cron, &col, err, sizeof(err)) != 0) {
    /* the column of the bad field: inside the quotes of a quoted value */
    jh_loc at = jh_yw_node_loc(f, v);
    if (v->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
        v->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
      at.column++;
    at.column += col - 1;
    jh_yw_err_at(&c->yw, at,
                 "invalid cron expression for 'schedule': %s (expected "
                 "minute hour day-of-month month day-of-week)",
                 err);
  }
}

static void parse_job(ctx *c, const jh_yfile *f, yaml_node_t *n) {
  jh_pipeline *p = c->p;
  jh_yentry *es;
  size_t ne, choice;

  p->job_loc = jh_yw_node_loc(f, n);
  es = jh_yw_want_mapping(&c->yw, f, n,
                          "a mapping with 'id' and 'tasks' for 'job'", &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    yaml_node_t *v = es[i].vnode;
    if (strcmp(k, "id") == 0)
      jh_yw_want_ident(&c->yw, f, v, "id", &p->job_id);
    else if (strcmp(k, "display_name") == 0)
      jh_yw_want_string(&c->yw, f, v, k, &p->display_name);
    else if (strcmp(k, "agent") == 0)
      jh_yw_want_string(&c->yw, f, v, k, &p->agent);
    else if (strcmp(k, "schedule") == 0)
      job_schedule(c, f, v);
    else if (strcmp(k, "cron_time_zone") == 0) {
      if (jh_yw_want_choice(&c->yw, f, v, k, cron_zones, NELEM(cron_zones),
                            &choice) == 0)
        p->cron_local = choice == 1;
    } else if (strcmp(k, "catch_up") == 0)
      jh_yw_want_bool(&c->yw, f, v, k, &p->catch_up);
    else if (strcmp(k, "log_level") == 0) {
      if (jh_yw_want_choice(&c->yw, f, v, k, jh_job_log_levels,
                            JH_JOB_LOG_LEVELS, &choice) == 0)
        p->log_level = (int)choice;
    } else if (strcmp(k, "user_start_denied") == 0)
      jh_yw_want_bool(&c->yw, f, v, k, &p->user_start_denied);
    else if (strcmp(k, "is_incremental") == 0)
      jh_yw_want_bool(&c->yw, f, v, k, &p->is_incremental);
    else if (strcmp(k, "is_connector_job") == 0)
      jh_yw_want_bool(&c->yw, f, v, k, &p->is_connector_job);
    else if (strcmp(k, "is_initialization_job") == 0)
      jh_yw_want_bool(&c->yw, f, v, k, &p->is_initialization_job);
    else if (strcmp(k, "max_parallel") == 0)
      jh_yw_want_int(&c->yw, f, v, k, 1, &p->max_parallel);
    else if (strcmp(k, "ordering") == 0) {
      if (jh_yw_want_choice(&c->yw, f, v, k, orderings, NELEM(orderings),
                            &choice) == 0)
        p->ordering = choice == 1 ? JH_ORDER_DEPENDENCIES : JH_ORDER_LEVELS;
    } else if (strcmp(k, "level_overflow") == 0) {
      if (jh_yw_want_choice(&c->yw, f, v, k, overflows, NELEM(overflows),
                            &choice) == 0)
        p->level_overflow = choice == 1 ? JH_OVERFLOW_WINDOW
                                        : JH_OVERFLOW_LEVELS;
    } else if (strcmp(k, "tasks") == 0)
      parse_tasks(c, f, v);
    else if (strcmp(k, "scaffold") == 0)
      parse_scaffold(c, f, v);
    else
      jh_yw_unknown_key(&c->yw, f, &es[i], job_keys, NELEM(job_keys));
  }
  const jh_yentry *sc = jh_yw_find_entry(es, ne, "scaffold");
  if (jh_yw_find_entry(es, ne, "id") == NULL && sc == NULL)
    jh_yw_err_node(&c->yw, f, n,
                   "missing 'id' in 'job': expected the job identifier");
  if (jh_yw_find_entry(es, ne, "tasks") == NULL && sc == NULL)
    jh_yw_err_node(&c->yw, f, n,
                   "missing 'tasks' in 'job': expected a non-empty "
                   "sequence of tasks (or a 'scaffold')");
  else if (jh_yw_find_entry(es, ne, "tasks") != NULL && sc != NULL)
    jh_yw_err_node(&c->yw, f, sc->knode,
                   "'scaffold' and 'tasks' in one job: the scaffold "
                   "generates the tasks (add yours with its 'add_tasks')");
  free(es);
}

/* ---- files and includes ---- */

/* Whether canonical `path` is `dir` or lies below it. */
static int path_under(const char *dir, const char *path) {
  size_t n = strlen(dir);
  if (strncmp(dir, path, n) != 0)
    return 0;
  return n > 0 && (dir[n - 1] == '/' || path[n] == '/' || path[n] == '\0');
}

static int include_allowed(const ctx *c, const char *real) {
  for (size_t i = 0; i < c->nallowed; i++)
    if (path_under(c->allowed[i], real))
      return 1;
  return 0;
}

static void include_outside(ctx *c, const jh_yfile *from,
                            const yaml_node_t *from_node, const char *shown) {
  jh_yw_err_node(&c->yw, from, from_node,
                 "included file '%s' is outside the "
                 "folder of the pipeline (%s): name its folder under "
                 "'allow_include:' in the top pipeline file, or give "
                 "--allow-include DIR",
                 JH_Q(shown), c->top_dir != NULL ? c->top_dir : "?");
}

/* Add the canonical form of folder `dir` to the allowed ones; returns 0
 * or an errno value (nothing added). */
static int allow_dir(ctx *c, const char *dir) {
  char *real = realpath(dir, NULL), **grown;
  struct stat st;
  if (real == NULL)
    return errno;
  if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
    free(real);
    return ENOTDIR;
  }
  grown = realloc(c->allowed, (c->nallowed + 1) * sizeof(*grown));
  if (grown == NULL) {
    free(real);
    c->yw.oom = 1;
    return ENOMEM;
  }
  c->allowed = grown;
  c->allowed[c->nallowed++] = real;
  return 0;
}

/* The folder of `file` allowed first (the top file's tree). */
static void allow_dir_of(ctx *c, const char *file) {
  const char *slash = strrchr(file, '/');
  char *dir = slash == NULL   ? strdup(".")
              : slash == file ? strdup("/")
                              : strndup(file, (size_t)(slash - file));
  if (dir == NULL) {
    c->yw.oom = 1;
    return;
  }
  /* a missing folder: reading the file fails anyway */
  if (allow_dir(c, dir) == 0)
    c->top_dir = c->allowed[c->nallowed - 1];
  free(dir);
}

/* `allow_include`: folders, relative to the top file, whose files may be
 * included besides those of the top file's folder tree. */
static void parse_allow_include(ctx *c, const jh_yfile *f, yaml_node_t *n) {
  long count;
  yaml_node_t **items = jh_yw_want_list(&c->yw, f, n, "allow_include", &count);
  for (long i = 0; i < count && !c->yw.oom; i++) {
    char *dir = jh_yw_resolve_path(&c->yw, f->name, jh_yw_scalar(items[i]));
    int err = dir != NULL ? allow_dir(c, dir) : ENOMEM;
    if (err != 0 && err != ENOMEM)
      jh_yw_err_node(&c->yw, f, items[i],
                     "expected a folder for "
                     "'allow_include', got '%s': %s",
                     JH_Q(jh_yw_scalar(items[i])), strerror(err));
    free(dir);
  }
  free(items);
}

static void load_file(ctx *c, const char *shown, const jh_yfile *from,
                      const yaml_node_t *from_node, const chain_link *up);

/* Where an included path is read from: relative to the including file. */
static char *include_path(ctx *c, const char *including, const char *item) {
  const char *slash = strrchr(including, '/');
  char *path;
  if (item[0] == '/' || slash == NULL)
    return jh_yw_xstrdup(&c->yw, item);
  if (asprintf(&path, "%.*s/%s", (int)(slash - including), including, item) <
      0) {
    c->yw.oom = 1;
    return NULL;
  }
  return path;
}

/* Read one include item (a path relative to the including file). */
static void include_item(ctx *c, const jh_yfile *f, yaml_node_t *item,
                         const chain_link *link) {
  const char *text = jh_yw_want_scalar(&c->yw, f, item, "include",
                                       "a file name");
  char *path;
  if (text == NULL)
    return;
  path = include_path(c, f->name, text);
  if (path != NULL)
    load_file(c, path, f, item, link);
  free(path);
}

/* `include`: one file name, or a sequence of them; every item is checked
 * even when another is wrong. */
static void parse_include(ctx *c, const jh_yfile *f, yaml_node_t *n,
                          const chain_link *link) {
  char got[GOT_SIZE];
  if (n->type == YAML_SCALAR_NODE) {
    include_item(c, f, n, link);
    return;
  }
  if (n->type != YAML_SEQUENCE_NODE) {
    jh_yw_err_node(&c->yw, f, n,
                   "expected a file name or a list of file names for "
                   "'include', got %s",
                   jh_yw_describe(n, got, sizeof(got)));
    return;
  }
  for (yaml_node_item_t *it = n->data.sequence.items.start;
       it < n->data.sequence.items.top && !c->yw.oom; it++)
    include_item(c, f, yaml_document_get_node(f->doc, *it), link);
}

static void parse_version(ctx *c, const jh_yfile *f, yaml_node_t *n) {
  char got[GOT_SIZE];
  if (n->type != YAML_SCALAR_NODE || strcmp(jh_yw_scalar(n), "1") != 0)
    jh_yw_err_node(&c->yw, f, n,
                   "expected 'version: 1' (the only pipeline format "
                   "version), got %s",
                   jh_yw_describe(n, got, sizeof(got)));
}

static void unknown_top_key(ctx *c, const jh_yfile *f, const jh_yentry *e,
                            int is_top) {
  const char *cands[NELEM(top_keys) + 8];
  size_t n = 0;
  for (size_t i = 0; i < NELEM(top_keys); i++)
    if (is_top || (strcmp(top_keys[i], "job") != 0 &&
                   strcmp(top_keys[i], "allow_include") != 0))
      cands[n++] = top_keys[i];
  for (size_t i = 0; i < jh_model_nsections && n < NELEM(cands); i++)
    cands[n++] = jh_model_sections[i];
  jh_yw_unknown_key(&c->yw, f, e, cands, n);
}

/* A file whose top-level keys are all unknown is not a pipeline file at
 * all (a password file, a CSV): one error says so, instead of one per
 * line quoting each. Returns 0 after reporting. */
static int looks_like_pipeline(ctx *c, const jh_yfile *f, const jh_yentry *es,
                               size_t ne) {
  for (size_t i = 0; i < ne; i++) {
    for (size_t k = 0; k < NELEM(top_keys); k++)
      if (strcmp(es[i].key, top_keys[k]) == 0)
        return 1;
    if (jh_model_is_section(es[i].key))
      return 1;
  }
  if (ne < 2)
    return 1; /* one unknown key: a typo, reported with a hint */
  jh_yw_err_node(&c->yw, f, es[0].knode,
                 "not a pipeline file: none of its "
                 "%zu top-level keys is one of version, include, job or the "
                 "model sections (first: '%s')",
                 ne, JH_Q(es[0].key));
  return 0;
}

static void walk_top(ctx *c, const jh_yfile *f, yaml_node_t *root,
                     const chain_link *link) {
  int is_top = link->up == NULL;
  const jh_yentry *allow;
  size_t ne;
  jh_yentry *es;
  char got[GOT_SIZE];

  if (root->type != YAML_MAPPING_NODE) {
    jh_yw_err_node(&c->yw, f, root,
                   "expected a mapping with 'version'%s at the top "
                   "level, got %s",
                   is_top ? " and 'job'" : "",
                   jh_yw_describe(root, got, sizeof(got)));
    return;
  }
  es = jh_yw_map_entries(&c->yw, f, root, &ne);
  if (es == NULL)
    return;
  if (!looks_like_pipeline(c, f, es, ne)) {
    free(es);
    return;
  }
  /* the folders it allows first, for includes written before them */
  allow = is_top ? jh_yw_find_entry(es, ne, "allow_include") : NULL;
  if (allow != NULL)
    parse_allow_include(c, f, allow->vnode);
  for (size_t i = 0; i < ne && !c->yw.oom; i++) {
    const char *k = es[i].key;
    if (strcmp(k, "allow_include") == 0 && is_top)
      continue;
    else if (strcmp(k, "allow_include") == 0)
      jh_yw_err_node(&c->yw, f, es[i].knode,
                     "'allow_include' is only allowed "
                     "in the top pipeline file, not in an included file");
    else if (strcmp(k, "version") == 0)
      parse_version(c, f, es[i].vnode);
    else if (strcmp(k, "include") == 0)
      parse_include(c, f, es[i].vnode, link);
    else if (strcmp(k, "job") == 0 && is_top)
      parse_job(c, f, es[i].vnode);
    else if (strcmp(k, "job") == 0)
      jh_yw_err_node(&c->yw, f, es[i].knode,
                     "'job' is only allowed in the top "
                     "pipeline file, not in an included file");
    else if (jh_model_is_section(k))
      jh_model_parse_section(&c->yw, f, k, es[i].vnode, c->p->model, c->reg);
    else
      unknown_top_key(c, f, &es[i], is_top);
  }
  if (is_top && jh_yw_find_entry(es, ne, "version") == NULL)
    jh_yw_err_node(&c->yw, f, root, "missing 'version': expected 'version: 1'");
  if (is_top && jh_yw_find_entry(es, ne, "job") == NULL)
    jh_yw_err_node(&c->yw, f, root,
                   "missing 'job': expected the job with its 'id' and "
                   "'tasks'");
  free(es);
}

/* Count, without recursion, the node visits a full walk of the document
 * would make; returns the node where the count passed `limit`, or NULL. */
static yaml_node_t *alias_bomb(ctx *c, yaml_document_t *doc, size_t limit) {
  yaml_node_t **stack = jh_yw_xcalloc(&c->yw, limit + 1, sizeof(*stack));
  yaml_node_t *found = NULL;
  size_t top = 0, visits = 1;

  if (stack == NULL)
    return NULL;
  stack[top++] = yaml_document_get_root_node(doc);
  while (top > 0 && found == NULL) {
    yaml_node_t *n = stack[--top];
    if (n->type == YAML_SEQUENCE_NODE) {
      for (yaml_node_item_t *it = n->data.sequence.items.start;
           it < n->data.sequence.items.top && found == NULL; it++) {
        if (visits + 1 > limit) {
          found = n;
        } else {
          visits++;
          stack[top++] = yaml_document_get_node(doc, *it);
        }
      }
    } else if (n->type == YAML_MAPPING_NODE) {
      for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
           pr < n->data.mapping.pairs.top && found == NULL; pr++) {
        if (visits + 2 > limit) {
          found = n;
        } else {
          visits += 2;
          stack[top++] = yaml_document_get_node(doc, pr->key);
          stack[top++] = yaml_document_get_node(doc, pr->value);
        }
      }
    }
  }
  free(stack);
  return found;
}

/* Line and column (1-based) of a byte offset of the text. */
static void offset_mark(const char *text, size_t len, size_t offset, int *line,
                        int *col) {
  *line = 1;
  *col = 1;
  for (size_t pos = 0; pos < offset && pos < len; pos++) {
    if (text[pos] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static void parser_error(ctx *c, const char *name, yaml_parser_t *ps,
                         const char *text, size_t len) {
  int line, col;
  switch (ps->error) {
  case YAML_MEMORY_ERROR:
    c->yw.oom = 1;
    jh_diag_error(c->yw.diags, name, 0, 0, "out of memory while reading YAML");
    break;
  case YAML_READER_ERROR:
    offset_mark(text, len, ps->problem_offset, &line, &col);
    if (ps->problem_value != -1)
      jh_diag_error(c->yw.diags, name, line, col, "invalid YAML: %s (byte #%X)",
                    ps->problem, (unsigned)ps->problem_value);
    else
      jh_diag_error(c->yw.diags, name, line, col, "invalid YAML: %s",
                    ps->problem);
    break;
  default:
    line = (int)ps->problem_mark.line + 1;
    col = (int)ps->problem_mark.column + 1;
    if (ps->context != NULL)
      jh_diag_error(c->yw.diags, name, line, col,
                    "invalid YAML: %s (%s at line %d, column %d)",
                    ps->problem ? ps->problem : "syntax error", ps->context,
                    (int)ps->context_mark.line + 1,
                    (int)ps->context_mark.column + 1);
    else
      jh_diag_error(c->yw.diags, name, line, col, "invalid YAML: %s",
                    ps->problem ? ps->problem : "syntax error");
    break;
  }
}

/*
 * Compose the one document of the text into *doc. Returns 0, or -1 after
 * reporting (a syntax error, an empty file, a second document); *doc is
 * to be deleted only on success.
 */
static int compose(ctx *c, const char *name, const char *text, size_t len,
                   int is_top, yaml_document_t *doc) {
  yaml_parser_t ps;
  yaml_document_t extra;
  int rc = -1;

  if (!yaml_parser_initialize(&ps)) {
    c->yw.oom = 1;
    return -1;
  }
  yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
  if (!yaml_parser_load(&ps, doc)) {
    parser_error(c, name, &ps, text, len);
    yaml_parser_delete(&ps);
    return -1;
  }
  if (yaml_document_get_root_node(doc) == NULL) {
    jh_diag_error(c->yw.diags, name, 1, 1,
                  "file is empty: expected a mapping "
                  "with 'version'%s",
                  is_top ? " and 'job'" : "");
  } else if (!yaml_parser_load(&ps, &extra)) {
    parser_error(c, name, &ps, text, len);
  } else {
    if (yaml_document_get_root_node(&extra) != NULL)
      jh_diag_error(c->yw.diags, name, (int)extra.start_mark.line + 1,
                    (int)extra.start_mark.column + 1,
                    "expected one YAML document, found a second one");
    else
      rc = 0;
    yaml_document_delete(&extra);
  }
  if (rc != 0)
    yaml_document_delete(doc);
  yaml_parser_delete(&ps);
  return rc;
}

/* Report that `path` cannot be read, at the include item when there is
 * one. */
static void cannot_read(ctx *c, const char *path, const jh_yfile *from,
                        const yaml_node_t *from_node, int err) {
  if (from != NULL)
    jh_yw_err_node(&c->yw, from, from_node,
                   "cannot read included file '%s': %s", JH_Q(path),
                   strerror(err));
  else
    jh_diag_error(c->yw.diags, path, 0, 0, "cannot read the pipeline: %s",
                  strerror(err));
}

/* Report "include cycle: a -> b -> a": the chain from the top file to
 * `link`, then `again`, the file it tries to include. */
static void include_cycle(ctx *c, const jh_yfile *from,
                          const yaml_node_t *from_node, const chain_link *link,
                          const char *again) {
  size_t n = 1, k;
  const char **names;
  char *text;

  for (const chain_link *l = link; l != NULL; l = l->up)
    n++;
  names = jh_yw_xcalloc(&c->yw, n, sizeof(*names));
  if (names == NULL)
    return;
  k = n - 1;
  names[k] = again;
  for (const chain_link *l = link; l != NULL; l = l->up)
    names[--k] = l->shown;
  text = jh_yw_join(names, n, " -> ");
  if (text == NULL)
    c->yw.oom = 1;
  jh_yw_err_node(&c->yw, from, from_node, "include cycle: %s",
                 text ? text : "?");
  free(text);
  free(names);
}

/* Add a path to p->files; returns the stored copy or NULL. */
static const char *add_file(ctx *c, const char *path) {
  jh_pipeline *p = c->p;
  char **grown = realloc(p->files, (p->nfiles + 1) * sizeof(*grown));
  if (grown == NULL) {
    c->yw.oom = 1;
    return NULL;
  }
  p->files = grown;
  p->files[p->nfiles] = jh_yw_xstrdup(&c->yw, path);
  if (p->files[p->nfiles] == NULL)
    return NULL;
  return p->files[p->nfiles++];
}

static int add_seen(ctx *c, char *real) {
  char **grown = realloc(c->seen, (c->nseen + 1) * sizeof(*grown));
  if (grown == NULL) {
    c->yw.oom = 1;
    free(real);
    return -1;
  }
  c->seen = grown;
  c->seen[c->nseen++] = real; /* owned by c->seen from now on */
  return 0;
}

/* Compose one file's text and walk it. */
static void read_and_walk(ctx *c, const char *name, const char *text,
                          size_t len, const chain_link *link) {
  yaml_document_t doc;
  jh_yfile f = {name, &doc, text, len};
  yaml_node_t *bomb;
  size_t nnodes;

  if (compose(c, name, text, len, link->up == NULL, &doc) != 0)
    return;
  nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
  bomb = alias_bomb(c, &doc, nnodes + ALIAS_EXTRA_MAX);
  if (bomb != NULL)
    jh_yw_err_node(&c->yw, &f, bomb,
                   "alias expansion exceeds %d nodes: aliases may "
                   "not repeat large or recursive structures",
                   ALIAS_EXTRA_MAX);
  else if (!c->yw.oom)
    walk_top(c, &f, yaml_document_get_root_node(&doc), link);
  yaml_document_delete(&doc);
}

/*
 * Take the file whose canonical path is `real` (owned from here on) on
 * the include chain: 0 when it is to be read, -1 when it is not (a cycle,
 * reported; or already read: a file included twice is read once).
 */
static int take_file(ctx *c, char *real, const char *shown,
                     const jh_yfile *from, const yaml_node_t *from_node,
                     const chain_link *up) {
  for (const chain_link *l = up; l != NULL; l = l->up)
    if (strcmp(l->real, real) == 0) {
      include_cycle(c, from, from_node, up, shown);
      free(real);
      return -1;
    }
  for (size_t i = 0; i < c->nseen; i++)
    if (strcmp(c->seen[i], real) == 0) {
      free(real); /* included twice (not a cycle): read once */
      return -1;
    }
  return add_seen(c, real);
}

/* The whole of a regular file into *text (malloc'd, NUL-terminated) and
 * *len. Returns 0 or an errno value. */
static int slurp(const char *path, char **text, size_t *len) {
  struct stat st;
  size_t done = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
  char *buf;

  *text = NULL;
  if (fd < 0)
    return errno;
  if (fstat(fd, &st) != 0)
    err = errno;
  else if (!S_ISREG(st.st_mode))
    err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
  else if ((unsigned long long)st.st_size > PIPELINE_FILE_MAX)
    err = EFBIG;
  buf = err == 0 ? malloc((size_t)st.st_size + 1) : NULL;
  if (err == 0 && buf == NULL)
    err = ENOMEM;
  while (err == 0 && done < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
    if (n < 0 && errno != EINTR)
      err = errno;
    else if (n == 0)
      break; /* the file shrank while read: take what is there */
    else if (n > 0)
      done += (size_t)n;
  }
  close(fd);
  if (err != 0) {
    free(buf);
    return err;
  }
  buf[done] = '\0';
  *text = buf;
  *len = done;
  return 0;
}

/*
 * Read `shown` (the top file when from is NULL, else included by the item
 * from_node of `from`). A file already read is not read again; a file on
 * the include chain is a cycle; an included file must lie in the folder
 * tree of the top file or of a folder named under 'allow_include'.
 */
static void load_file(ctx *c, const char *shown, const jh_yfile *from,
                      const yaml_node_t *from_node, const chain_link *up) {
  char *real = realpath(shown, NULL), *text = NULL;
  const char *name;
  chain_link link;
  size_t len = 0;
  int err;

  if (real == NULL) {
    cannot_read(c, shown, from, from_node, errno);
    return;
  }
  if (from != NULL && !include_allowed(c, real)) {
    include_outside(c, from, from_node, shown);
    free(real);
    return;
  }
  if (take_file(c, real, shown, from, from_node, up) != 0)
    return;
  name = add_file(c, shown);
  if (name == NULL)
    return;
  err = slurp(shown, &text, &len);
  if (err != 0) {
    if (err == ENOMEM)
      c->yw.oom = 1;
    cannot_read(c, shown, from, from_node, err);
    return;
  }
  link.real = real;
  link.shown = name;
  link.up = up;
  read_and_walk(c, name, text, len, &link);
  free(text);
}

/* ---- checks across tasks ---- */

/* Index the tasks by id (jh_pipeline_task uses it from now on). */
static void index_tasks(ctx *c) {
  jh_pipeline *p = c->p;
  p->task_index = jh_yw_xcalloc(&c->yw, 1, sizeof(*p->task_index));
  if (p->task_index == NULL)
    return;
  if (jh_strindex_build(p->task_index, JH_STRINDEX_FIELD(p->tasks, id),
                        p->ntasks, 0) != 0) {
    free(p->task_index);
    p->task_index = NULL;
    c->yw.oom = 1;
  }
}

static void check_ids(ctx *c) {
  const jh_pipeline *p = c->p;
  size_t *first = jh_yw_xcalloc(&c->yw, p->ntasks, sizeof(*first));
  if (first == NULL)
    return;
  jh_strindex_firsts(p->task_index, first, p->ntasks);
  for (size_t i = 0; i < p->ntasks; i++) {
    size_t j = first[i];
    if (j != (size_t)-1 && j != i)
      jh_yw_err_at(&c->yw, c->id_loc[i],
                   "duplicate task id '%s' (first "
                   "defined at line %d): task ids must be unique within the "
                   "job",
                   JH_Q(p->tasks[i].id), c->id_loc[j].line);
  }
  free(first);
}

/* Unknown parents that get a "did you mean" (each hint compares the name
 * with every task id). */
#define PARENT_HINTS_MAX 20

static void unknown_parent(ctx *c, const jh_task_def *t, size_t d,
                           const char **ids, size_t nids, size_t *nhints) {
  const char *hint = NULL;
  if (*nhints < PARENT_HINTS_MAX) {
    (*nhints)++;
    hint = jh_yw_closest(t->depends_on[d], ids, nids);
  }
  if (hint != NULL)
    jh_yw_err_at(&c->yw, t->depends_loc[d],
                 "unknown task '%s' in "
                 "depends_on (did you mean '%s'?)",
                 JH_Q(t->depends_on[d]), JH_Q(hint));
  else
    jh_yw_err_at(&c->yw, t->depends_loc[d],
                 "unknown task '%s' in "
                 "depends_on: no task of this job has this id",
                 JH_Q(t->depends_on[d]));
}

/* The parents of one task: each named once, each a task of the job. */
static void task_parents(ctx *c, const jh_task_def *t, const char **ids,
                         size_t nids, size_t *nhints) {
  jh_strindex seen;
  size_t *first;

  if (t->ndepends == 0)
    return;
  first = jh_yw_xcalloc(&c->yw, t->ndepends, sizeof(*first));
  if (first == NULL)
    return;
  if (jh_strindex_build(&seen, t->depends_on, sizeof(char *), t->ndepends, 0) !=
      0) {
    c->yw.oom = 1;
    free(first);
    return;
  }
  jh_strindex_firsts(&seen, first, t->ndepends);
  jh_strindex_free(&seen);
  for (size_t d = 0; d < t->ndepends; d++) {
    if (first[d] != d)
      jh_yw_err_at(&c->yw, t->depends_loc[d],
                   "'%s' is listed twice in "
                   "depends_on: list each parent once",
                   JH_Q(t->depends_on[d]));
    else if (jh_pipeline_task(c->p, t->depends_on[d], NULL) == NULL)
      unknown_parent(c, t, d, ids, nids, nhints);
  }
  free(first);
}

static void check_parents(ctx *c) {
  const jh_pipeline *p = c->p;
  const char **ids = jh_yw_xcalloc(&c->yw, p->ntasks, sizeof(*ids));
  size_t nids = 0, nhints = 0;

  if (ids == NULL)
    return;
  for (size_t i = 0; i < p->ntasks; i++)
    if (p->tasks[i].id != NULL)
      ids[nids++] = p->tasks[i].id;
  for (size_t i = 0; i < p->ntasks && !c->yw.oom; i++)
    task_parents(c, &p->tasks[i], ids, nids, &nhints);
  free(ids);
}

/* doc/identity-manager.md: all tasks of a job run on the job's agent, or all on
 * the server when the job names none. */
static void check_agents(ctx *c) {
  const jh_pipeline *p = c->p;
  for (size_t i = 0; i < p->ntasks; i++) {
    const jh_task_def *t = &p->tasks[i];
    if (t->agent == NULL || t->id == NULL)
      continue;
    if (p->agent != NULL && strcmp(t->agent, p->agent) != 0)
      jh_yw_err_at(
          &c->yw, t->loc,
          "task '%s' runs on agent '%s' but job '%s' runs on agent '%s': "
          "all tasks of a job run on the job's agent",
          JH_Q(t->id), JH_Q(t->agent), JH_Q(p->job_id), JH_Q(p->agent));
    else if (p->agent == NULL)
      jh_diag_add(c->yw.diags, JH_DIAG_WARNING, t->loc.file, t->loc.line,
                  t->loc.column,
                  "task '%s' names agent '%s' but the job has no agent: a "
                  "job without agent runs all its tasks on the server",
                  JH_Q(t->id), JH_Q(t->agent));
  }
}

static void warn_levels(ctx *c) {
  const jh_pipeline *p = c->p;
  if (p->ordering != JH_ORDER_DEPENDENCIES)
    return;
  for (size_t i = 0; i < p->ntasks; i++)
    if (c->level_loc[i].line > 0)
      jh_diag_add(c->yw.diags, JH_DIAG_WARNING, c->level_loc[i].file,
                  c->level_loc[i].line, c->level_loc[i].column,
                  "'level' is ignored with 'ordering: dependencies'");
}

/* Each item of a task's list parameter `key` names an item of the model
 * (found by `find`), once the model declares any (count > 0). */
static void
check_model_list(ctx *c, const jh_task_def *t, const char *key, size_t count,
                 const char *what, const char *section,
                 const void *(*find)(const jh_model *, const char *)) {
  const jh_value *v = jh_task_value(t, key);
  if (v == NULL || count == 0)
    return;
  for (size_t i = 0; i < v->nitems; i++)
    if (find(c->p->model, v->items[i]) == NULL)
      jh_yw_err_at(&c->yw, v->loc,
                   "unknown %s '%s' in '%s': expected one declared under "
                   "'%s:' in the model",
                   what, JH_Q(v->items[i]), key, section);
}

static const void *find_entity_type(const jh_model *m, const char *id) {
  return jh_model_entity_type(m, id);
}

static const void *find_resource_type(const jh_model *m, const char *id) {
  return jh_model_resource_type(m, id);
}

/* Tasks name connectors, connections, entity types and resource types of
 * the model, once there is one (pipelines without a model keep these
 * parameters unchecked). */
static void check_model_refs(ctx *c) {
  const jh_pipeline *p = c->p;
  const jh_model *m = p->model;
  /* Each kind of reference is checked once the model declares that kind:
   * an imported job that names connectors but no connections still
   * validates, and running its export says the connection is missing. */
  for (size_t i = 0; i < p->ntasks; i++) {
    const jh_value *conn = jh_task_value(&p->tasks[i],
                                         JOBHOST_PARAM_NAME_CONNECTION);
    const jh_value *ctor = jh_task_value(&p->tasks[i],
                                         JOBHOST_PARAM_NAME_CONNECTOR);
    const jh_connection *cn = NULL;
    check_model_list(c, &p->tasks[i], "entity_types", m->nentity_types,
                     "entity type", "entity_types", find_entity_type);
    /* an ENTITY_TYPE parameter (SDK 1.2) is checked model or not: a task
     * that reads an entity type needs the model to declare it */
    for (size_t k = 0; k < p->tasks[i].nparams; k++) {
      const jh_value *v = &p->tasks[i].params[k];
      if (v->type == JOBHOST_PARAM_ENTITY_TYPE && v->text != NULL &&
          jh_model_entity_type(m, v->text) == NULL)
        jh_yw_err_at(&c->yw, v->loc,
                     "unknown entity type '%s' in '%s': expected one "
                     "declared under 'entity_types:' in the model",
                     JH_Q(v->text), v->key);
    }
    check_model_list(c, &p->tasks[i], "resource_types", m->nresource_types,
                     "resource type", "resource_types", find_resource_type);
    if (m->nconnectors == 0)
      ctor = NULL;
    if (m->nconnections == 0)
      conn = NULL;
    if (ctor != NULL && ctor->text != NULL &&
        jh_model_connector(m, ctor->text) == NULL)
      jh_yw_err_at(&c->yw, ctor->loc,
                   "unknown connector '%s': expected a "
                   "connector declared under 'connectors:' in the model",
                   JH_Q(ctor->text));
    if (conn != NULL && conn->text != NULL) {
      cn = jh_model_connection(m, conn->text);
      if (cn == NULL)
        jh_yw_err_at(&c->yw, conn->loc,
                     "unknown connection '%s': expected "
                     "a connection declared under 'connections:' in the "
                     "model",
                     JH_Q(conn->text));
    }
    if (cn != NULL && ctor != NULL && ctor->text != NULL &&
        cn->connector != NULL && strcasecmp(cn->connector, ctor->text) != 0)
      jh_yw_err_at(&c->yw, conn->loc,
                   "connection '%s' belongs to connector "
                   "'%s', not to '%s'",
                   JH_Q(cn->id), JH_Q(cn->connector), JH_Q(ctor->text));
  }
}

/* ---- public ---- */

/* The top file as text (jh_pipeline_load_text). */
typedef struct top_text {
  const char *text;
  size_t len;
} top_text;

/* Read the top file, from `text` when given, else from the file `path`. */
static void load_top(ctx *c, const char *path, const top_text *text) {
  chain_link link = {NULL, NULL, NULL};
  const char *name;
  char *real;

  if (text == NULL) {
    load_file(c, path, NULL, NULL, NULL);
    return;
  }
  /* a name that is no file (yet) still stands for itself in cycles */
  real = realpath(path, NULL);
  if (real == NULL)
    real = jh_yw_xstrdup(&c->yw, path);
  if (real == NULL || take_file(c, real, path, NULL, NULL, NULL) != 0)
    return;
  name = add_file(c, path);
  if (name == NULL)
    return;
  link.real = real;
  link.shown = name;
  read_and_walk(c, name, text->text, text->len, &link);
}

/* The allowed include folders: the top file's, then the options'. */
static void allow_from_options(ctx *c, const char *path,
                               const jh_pipeline_options *opt) {
  allow_dir_of(c, path);
  for (size_t i = 0; opt != NULL && i < opt->nallow_include && !c->yw.oom;
       i++) {
    int err = allow_dir(c, opt->allow_include[i]);
    if (err != 0 && err != ENOMEM)
      jh_diag_error(c->yw.diags, NULL, 0, 0,
                    "--allow-include %s: expected "
                    "a folder: %s",
                    opt->allow_include[i], strerror(err));
  }
}

/* Every check across tasks and the model, once all files are read. */
static void check_all(ctx *c) {
  jh_pipeline *p = c->p;
  if (!c->yw.oom && p->model != NULL) {
    size_t errors = c->yw.diags->nerrors;
    jh_model_check(&c->yw, p->model);
    /* a scaffold is generated from a model without errors only */
    if (c->scaffold != NULL && p->tasks == NULL && !c->yw.oom &&
        c->yw.diags->nerrors == errors) {
      expand_scaffold(c);
      p->scaffold = c->scaffold;
      c->scaffold = NULL;
    }
    if (p->tasks != NULL)
      check_model_refs(c);
    p->packages = jh_yw_xcalloc(&c->yw, p->model->nconnections,
                                sizeof(*p->packages));
    for (size_t i = 0; p->packages != NULL && i < p->model->nconnections; i++)
      p->packages[i] = jh_model_package(c->reg, &p->model->connections[i]);
  }
  if (!c->yw.oom && p->tasks != NULL)
    index_tasks(c);
  if (!c->yw.oom && p->tasks != NULL) {
    check_ids(c);
    check_parents(c);
    check_agents(c);
    warn_levels(c);
  }
}

static void ctx_clear(ctx *c) {
  for (size_t i = 0; i < c->nseen; i++)
    free(c->seen[i]);
  free(c->seen);
  for (size_t i = 0; i < c->nallowed; i++)
    free(c->allowed[i]);
  free(c->allowed);
  free(c->id_loc);
  free(c->level_loc);
  jh_scaffold_clear(c->scaffold);
  free(c->scaffold);
}

static int load(const char *path, const top_text *text, const jh_registry *reg,
                const jh_pipeline_options *opt, jh_pipeline **out,
                jh_diags *diags) {
  size_t errors_before = diags->nerrors;
  ctx c;
  jh_pipeline *p;

  *out = NULL;
  memset(&c, 0, sizeof(c));
  c.reg = reg;
  c.yw.diags = diags;
  p = calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  c.p = p;
  p->max_parallel = DEFAULT_MAX_PARALLEL;
  p->log_level = JH_JOB_LOG_NONE;
  p->ordering = JH_ORDER_LEVELS;
  p->level_overflow = JH_OVERFLOW_LEVELS;
  p->path = jh_yw_xstrdup(&c.yw, path);
  p->model = jh_yw_xcalloc(&c.yw, 1, sizeof(*p->model));
  if (p->path != NULL && p->model != NULL)
    allow_from_options(&c, path, opt);
  if (!c.yw.oom && p->path != NULL && p->model != NULL)
    load_top(&c, path, text);
  check_all(&c);
  ctx_clear(&c);
  if (c.yw.oom) {
    jh_pipeline_free(p);
    return -ENOMEM;
  }
  if (diags->nerrors > errors_before) {
    jh_pipeline_free(p);
    return JOBHOST_ECONFIG;
  }
  *out = p;
  return 0;
}

int jh_pipeline_load(const char *path, const jh_registry *reg,
                     jh_pipeline **out, jh_diags *diags) {
  return load(path, NULL, reg, NULL, out, diags);
}

int jh_pipeline_load_opts(const char *path, const jh_registry *reg,
                          const jh_pipeline_options *opt, jh_pipeline **out,
                          jh_diags *diags) {
  return load(path, NULL, reg, opt, out, diags);
}

int jh_pipeline_load_text(const char *name, const char *text, size_t len,
                          const jh_registry *reg,
                          const jh_pipeline_options *opt, jh_pipeline **out,
                          jh_diags *diags) {
  top_text t = {text, len};
  return load(name, &t, reg, opt, out, diags);
}

static void task_free(jh_task_def *t) {
  free(t->id);
  free(t->type);
  free(t->display_name);
  free(t->agent);
  for (size_t i = 0; t->depends_on != NULL && i < t->ndepends; i++)
    free(t->depends_on[i]);
  free(t->depends_on);
  free(t->depends_loc);
  for (size_t i = 0; i < t->nparams; i++)
    value_clear(&t->params[i]);
  free(t->params);
}

void jh_pipeline_free(jh_pipeline *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->ntasks; i++)
    task_free(&p->tasks[i]);
  free(p->tasks);
  free(p->job_id);
  free(p->display_name);
  free(p->agent);
  free(p->schedule);
  free(p->packages);
  jh_scaffold_clear(p->scaffold);
  free(p->scaffold);
  free(p->scaffold_yaml);
  if (p->task_index != NULL)
    jh_strindex_free(p->task_index);
  free(p->task_index);
  jh_model_free(p->model);
  for (size_t i = 0; i < p->nfiles; i++)
    free(p->files[i]);
  free(p->files);
  free(p->path);
  free(p);
}

const jh_task_def *jh_pipeline_task(const jh_pipeline *p, const char *id,
                                    size_t *index) {
  if (p->task_index != NULL) {
    size_t at = jh_strindex_find(p->task_index, id);
    if (at == (size_t)-1)
      return NULL;
    if (index != NULL)
      *index = at;
    return &p->tasks[at];
  }
  for (size_t i = 0; i < p->ntasks; i++)
    if (p->tasks[i].id != NULL && strcmp(p->tasks[i].id, id) == 0) {
      if (index != NULL)
        *index = i;
      return &p->tasks[i];
    }
  return NULL;
}

const jh_value *jh_task_value(const jh_task_def *t, const char *key) {
  for (size_t i = 0; i < t->nparams; i++)
    if (strcmp(t->params[i].key, key) == 0)
      return &t->params[i];
  return NULL;
}
