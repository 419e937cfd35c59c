/*
 * scaffold_parse.c — the `scaffold:` mapping of a pipeline's job
 * (scaffold.h, doc/scaffold.md), read with its locations.
 */
#include "config.h"

#include "scaffold.h"

#include <stdlib.h>
#include <string.h>

static const char *const scaffold_keys[] = {"kind",
                                            "connector",
                                            "agent",
                                            "no_provisioning",
                                            "no_synchronization",
                                            "do_not_create_job",
                                            "add_tasks",
                                            "link_depend_tasks"};
static const char *const add_keys[] = {"id",    "type",   "display_name",
                                       "after", "before", "occurrence",
                                       "params"};
static const char *const link_keys[] = {"task", "depends_on",
                                        "child_occurrence",
                                        "parent_occurrence"};
static const char *const kinds[] = {"complete", "incremental", "agent-complete",
                                    "initialization"};

static void *grow_item(jh_yw *w, void *arrp, size_t n, size_t size) {
  void **arr = arrp;
  void *p = realloc(*arr, (n + 1) * size);
  if (p == NULL) {
    w->oom = 1;
    return NULL;
  }
  memset((char *)p + n * size, 0, size);
  *arr = p;
  return (char *)p + n * size;
}

/* The parameters of an added task: scalars or lists of scalars. */
static void parse_params(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                         jh_scaffold_add *a) {
  size_t ne;
  jh_yentry *es = jh_yw_want_mapping(
      w, f, n, "a mapping of the added task's parameters for 'params'", &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    jh_scaffold_param *p = grow_item(w, &a->params, a->nparams,
                                     sizeof(*a->params));
    if (p == NULL)
      break;
    p->key = jh_yw_xstrdup(w, es[i].key);
    if (es[i].vnode->type == YAML_SEQUENCE_NODE) {
      long count;
      yaml_node_t **items = jh_yw_want_list(w, f, es[i].vnode, es[i].key,
                                            &count);
      if (count > 0)
        jh_yw_copy_items(w, f, items, (size_t)count, &p->items, NULL);
      if (count >= 0 && p->items != NULL)
        p->nitems = (size_t)count;
      free(items);
    } else {
      jh_yw_want_string(w, f, es[i].vnode, es[i].key, &p->text);
    }
    a->nparams++;
  }
  free(es);
}

static void parse_add(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                      jh_scaffold *s) {
  size_t ne;
  jh_yentry *es;
  jh_scaffold_add *a = grow_item(w, &s->adds, s->nadds, sizeof(*s->adds));
  if (a == NULL)
    return;
  s->nadds++;
  a->occurrence = 1;
  a->loc = jh_yw_node_loc(f, n);
  es = jh_yw_want_mapping(w, f, n,
                          "an added task (a mapping with 'id', 'type' and "
                          "'after' or 'before')",
                          &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    yaml_node_t *v = es[i].vnode;
    if (strcmp(k, "id") == 0)
      jh_yw_want_ident(w, f, v, k, &a->id);
    else if (strcmp(k, "type") == 0)
      jh_yw_want_ident(w, f, v, k, &a->type);
    else if (strcmp(k, "display_name") == 0)
      jh_yw_want_string(w, f, v, k, &a->display_name);
    else if (strcmp(k, "after") == 0)
      jh_yw_want_ident(w, f, v, k, &a->after);
    else if (strcmp(k, "before") == 0)
      jh_yw_want_ident(w, f, v, k, &a->before);
    else if (strcmp(k, "occurrence") == 0)
      jh_yw_want_int(w, f, v, k, 1, &a->occurrence);
    else if (strcmp(k, "params") == 0)
      parse_params(w, f, v, a);
    else
      jh_yw_unknown_key(w, f, &es[i], add_keys, NELEM(add_keys));
  }
  if (jh_yw_find_entry(es, ne, "id") == NULL ||
      jh_yw_find_entry(es, ne, "type") == NULL)
    jh_yw_err_node(w, f, n,
                   "an added task needs 'id' and 'type' (the task to add "
                   "to the generated job)");
  if ((jh_yw_find_entry(es, ne, "after") == NULL) ==
      (jh_yw_find_entry(es, ne, "before") == NULL))
    jh_yw_err_node(w, f, n,
                   "an added task needs exactly one of 'after' and "
                   "'before' (a task id or a task type of the generated "
                   "job)");
  free(es);
}

static void parse_link(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                       jh_scaffold *s) {
  size_t ne;
  jh_yentry *es;
  jh_scaffold_link *l = grow_item(w, &s->links, s->nlinks, sizeof(*s->links));
  if (l == NULL)
    return;
  s->nlinks++;
  l->child_occurrence = l->parent_occurrence = 1;
  l->loc = jh_yw_node_loc(f, n);
  es = jh_yw_want_mapping(w, f, n,
                          "a link (a mapping with 'task' and 'depends_on')",
                          &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    yaml_node_t *v = es[i].vnode;
    if (strcmp(k, "task") == 0)
      jh_yw_want_ident(w, f, v, k, &l->task);
    else if (strcmp(k, "depends_on") == 0)
      jh_yw_want_ident(w, f, v, k, &l->depends_on);
    else if (strcmp(k, "child_occurrence") == 0)
      jh_yw_want_int(w, f, v, k, 1, &l->child_occurrence);
    else if (strcmp(k, "parent_occurrence") == 0)
      jh_yw_want_int(w, f, v, k, 1, &l->parent_occurrence);
    else
      jh_yw_unknown_key(w, f, &es[i], link_keys, NELEM(link_keys));
  }
  if (jh_yw_find_entry(es, ne, "task") == NULL ||
      jh_yw_find_entry(es, ne, "depends_on") == NULL)
    jh_yw_err_node(w, f, n,
                   "a link needs 'task' and 'depends_on' (task ids or "
                   "task types of the generated job)");
  free(es);
}

static void parse_items(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                        const char *key, jh_scaffold *s,
                        void (*one)(jh_yw *, const jh_yfile *, yaml_node_t *,
                                    jh_scaffold *)) {
  char got[GOT_SIZE];
  if (n->type != YAML_SEQUENCE_NODE) {
    jh_yw_err_node(w, f, n, "expected a sequence of mappings for '%s', got %s",
                   key, jh_yw_describe(n, got, sizeof(got)));
    return;
  }
  for (yaml_node_item_t *i = n->data.sequence.items.start;
       i < n->data.sequence.items.top && !w->oom; i++)
    one(w, f, yaml_document_get_node(f->doc, *i), s);
}

int jh_scaffold_parse(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                      jh_scaffold *s) {
  size_t ne, errors = w->diags->nerrors, choice;
  const jh_yentry *ke;
  jh_yentry *es;

  s->loc = jh_yw_node_loc(f, n);
  es = jh_yw_want_mapping(w, f, n,
                          "a mapping with 'kind' (complete, incremental, "
                          "agent-complete or initialization) for 'scaffold'",
                          &ne);
  if (es == NULL)
    return -1;
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    yaml_node_t *v = es[i].vnode;
    if (strcmp(k, "kind") == 0) {
      if (jh_yw_want_choice(w, f, v, k, kinds, NELEM(kinds), &choice) == 0)
        s->kind = (jh_scaffold_kind)choice;
    } else if (strcmp(k, "connector") == 0)
      jh_yw_want_ident(w, f, v, k, &s->connector);
    else if (strcmp(k, "agent") == 0)
      jh_yw_want_ident(w, f, v, k, &s->agent);
    else if (strcmp(k, "no_provisioning") == 0)
      jh_yw_want_bool(w, f, v, k, &s->no_provisioning);
    else if (strcmp(k, "no_synchronization") == 0)
      jh_yw_want_bool(w, f, v, k, &s->no_synchronization);
    else if (strcmp(k, "do_not_create_job") == 0)
      jh_yw_want_bool(w, f, v, k, &s->do_not_create_job);
    else if (strcmp(k, "add_tasks") == 0)
      parse_items(w, f, v, k, s, parse_add);
    else if (strcmp(k, "link_depend_tasks") == 0)
      parse_items(w, f, v, k, s, parse_link);
    else
      jh_yw_unknown_key(w, f, &es[i], scaffold_keys, NELEM(scaffold_keys));
  }
  ke = jh_yw_find_entry(es, ne, "kind");
  if (ke == NULL)
    jh_yw_err_node(w, f, n,
                   "missing 'kind' in 'scaffold': expected complete, "
                   "incremental, agent-complete or initialization");
  else if ((s->kind == JH_SCAFFOLD_COMPLETE ||
            s->kind == JH_SCAFFOLD_INCREMENTAL) &&
           s->connector == NULL)
    jh_yw_err_node(w, f, n,
                   "missing 'connector' in 'scaffold': a %s scaffold "
                   "synchronizes one connector",
                   jh_scaffold_kind_name(s->kind));
  else if (s->kind == JH_SCAFFOLD_AGENT_COMPLETE && s->agent == NULL)
    jh_yw_err_node(w, f, n,
                   "missing 'agent' in 'scaffold': an agent-complete "
                   "scaffold synchronizes the connectors of one agent");
  if (s->do_not_create_job)
    jh_yw_err_node(w, f, n,
                   "'do_not_create_job' has no place in a pipeline, which "
                   "is a job: print the tasks with `jobhost scaffold "
                   "PIPELINE --do-not-create-job`");
  free(es);
  return w->diags->nerrors > errors ? -1 : 0;
}

void jh_scaffold_clear(jh_scaffold *s) {
  if (s == NULL)
    return;
  free(s->connector);
  free(s->agent);
  free(s->job_id);
  free(s->display_name);
  free(s->schedule);
  for (size_t i = 0; i < s->nadds; i++) {
    jh_scaffold_add *a = &s->adds[i];
    free(a->id);
    free(a->type);
    free(a->display_name);
    free(a->after);
    free(a->before);
    for (size_t j = 0; j < a->nparams; j++) {
      free(a->params[j].key);
      free(a->params[j].text);
      for (size_t k = 0; k < a->params[j].nitems; k++)
        free(a->params[j].items[k]);
      free(a->params[j].items);
    }
    free(a->params);
  }
  free(s->adds);
  for (size_t i = 0; i < s->nlinks; i++) {
    free(s->links[i].task);
    free(s->links[i].depends_on);
  }
  free(s->links);
  memset(s, 0, sizeof(*s));
}
