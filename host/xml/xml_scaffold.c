/*
 * xml_scaffold.c — see xml_scaffold.h.
 *
 *   element attribute / child         pipeline
 *   JobIdentifier                     job id (computed when absent)
 *   DisplayName_L1                    job display_name (other languages:
 *                                     comments)
 *   Connector, Agent                  scaffold connector, agent
 *   CronTabExpression CronTab=        job schedule (a CronTimeZone other
 *                                     than UTC: unsupported)
 *   NoProvisioning, NoSynchronization scaffold no_provisioning,
 *                                     no_synchronization
 *   AddTask Task= TaskToCompareWith=  add_tasks: the declared task (type,
 *     After=|Before= Occurence=       attributes in snake_case, its
 *                                     TaskEntityType/TaskResourceType)
 *   LinkDependTask Task= DependOn=    link_depend_tasks
 *     ChildOccurence= ParentOccurence=
 *   OpenIdIdentifier                  a comment (jobhost's tasks take no
 *                                     OpenID client)
 * Everything else (DoNotCreateJob, FulfillInternalWorkflowsPath,
 * OldAlgorithm, the initialization job's own children, ...) is
 * unsupported.
 */
#include "config.h"

#include "xml_scaffold.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xml_import.h"

#define P_JOB "  "
#define P_SC "    "
#define P_ITEM "      - "
#define P_FIELD "        "
#define P_PITEM "          - "
#define P_PFIELD "          "

static const struct {
  const char *element, *kind;
} kinds[] = {{"CreateConnectorSynchroComplete", "complete"},
             {"CreateConnectorSynchroIncremental", "incremental"},
             {"CreateAgentSynchroComplete", "agent-complete"},
             {"CreateInitializationJob", "initialization"}};

const char *jh_xml_scaffold_kind(const char *element) {
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if (strcmp(element, kinds[i].element) == 0)
      return kinds[i].kind;
  return NULL;
}

/* The value of attribute a, malloc'd ("" when empty); NULL: no memory. */
static char *value_of(const xmlAttr *a) {
  xmlChar *v = xmlNodeListGetString(a->doc, a->children, 1);
  char *s = strdup(v != NULL ? (const char *)v : "");
  xmlFree(v);
  return s;
}

static char *get(const xmlNode *n, const char *name) {
  for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
    if (a->ns == NULL && strcmp((const char *)a->name, name) == 0)
      return value_of(a);
  return NULL;
}

char *jh_xml_scaffold_job_id(const xmlNode *n) {
  const char *kind = jh_xml_scaffold_kind((const char *)n->name);
  char *id = get(n, "JobIdentifier"), *who, *out = NULL;
  if (id != NULL || kind == NULL)
    return id;
  if (strcmp(kind, "initialization") == 0)
    return strdup("InitializationJob");
  who = get(n, strcmp(kind, "agent-complete") == 0 ? "Agent" : "Connector");
  if (asprintf(&out, "%s_Synchronize_%s_Scaffolding", who ? who : "",
               strcmp(kind, "incremental") == 0 ? "Incremental" : "Complete") <
      0)
    out = NULL;
  free(who);
  return out;
}

static int is_true(const char *v) {
  return v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0);
}

/* "name=value" pairs of a left-out element, for its comment. */
static char *describe(const xmlNode *n) {
  char *buf = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&buf, &len);
  if (o == NULL)
    return NULL;
  fprintf(o, "left out: <%s", (const char *)n->name);
  for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
    char *v = value_of(a);
    fprintf(o, " %s=\"%s\"", (const char *)a->name, v ? v : "");
    free(v);
  }
  fputs("/>", o);
  if (fclose(o) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static int unsupported_node(const jh_xml_scaffold_io *io, const xmlNode *n,
                            const char *why) {
  char *msg = NULL, *left = describe(n);
  if (left == NULL ||
      asprintf(&msg, "unsupported element '%s' in %s: %s",
               (const char *)n->name, (const char *)n->parent->name, why) < 0) {
    free(left);
    return -ENOMEM;
  }
  io->unsupported(io->arg, n, NULL, msg, left);
  free(msg);
  free(left);
  return 0;
}

/* A child's attribute, written as `key` under prefix when present. */
static int attr_line(const jh_xml_scaffold_io *io, const xmlNode *n,
                     const char *name, const char *prefix, const char *key) {
  for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
    if (a->ns == NULL && strcmp((const char *)a->name, name) == 0) {
      char *v = value_of(a);
      if (v == NULL)
        return -ENOMEM;
      io->line(io->arg, n, a, prefix, key, v);
      free(v);
      return 0;
    }
  return 0;
}

/* The attributes of a child that are not in `known`: unsupported. */
static int other_attrs(const jh_xml_scaffold_io *io, const xmlNode *n,
                       const char *const *known) {
  for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
    size_t k = 0;
    char *msg = NULL, *v, *left = NULL;
    for (; known[k] != NULL; k++)
      if (a->ns == NULL && strcmp((const char *)a->name, known[k]) == 0)
        break;
    if (known[k] != NULL ||
        (a->ns == NULL &&
         strncmp((const char *)a->name, "DisplayName_L", 13) == 0))
      continue;
    v = value_of(a);
    if (v == NULL ||
        asprintf(&msg, "unsupported attribute '%s' on %s",
                 (const char *)a->name, (const char *)n->name) < 0) {
      free(v);
      return -ENOMEM;
    }
    if (asprintf(&left, "left out: %s=\"%s\"", (const char *)a->name, v) < 0)
      left = NULL;
    io->unsupported(io->arg, n, a, msg, left ? left : "left out");
    free(msg);
    free(left);
    free(v);
  }
  return 0;
}

/* AddTask: the declared task it names, with where it goes. */
static int add_task(const jh_xml_scaffold_io *io, const xmlNode *n) {
  static const char *const known[] = {"Task",   "TaskToCompareWith", "After",
                                      "Before", "Occurence",         NULL};
  char *task = get(n, "Task"), *cmp = get(n, "TaskToCompareWith");
  char *after = get(n, "After"), *before = get(n, "Before");
  const xmlNode *decl = task != NULL ? io->decl(io->arg, task) : NULL;
  int rc = 0;

  if (task == NULL || cmp == NULL || decl == NULL ||
      is_true(after) == is_true(before)) {
    rc = unsupported_node(
        io, n,
        task == NULL || cmp == NULL ? "AddTask needs Task and TaskToCompareWith"
        : decl == NULL ? "its Task is no task declared at the top level of "
                         "the configuration"
                       : "AddTask needs exactly one of After and Before");
    goto out;
  }
  io->line(io->arg, n, NULL, P_ITEM, "id", task);
  io->line(io->arg, decl, NULL, P_FIELD, "type", (const char *)decl->name);
  io->line(io->arg, n, NULL, P_FIELD, is_true(after) ? "after" : "before", cmp);
  if ((rc = attr_line(io, n, "Occurence", P_FIELD, "occurrence")) != 0)
    goto out;
  if ((rc = attr_line(io, decl, "DisplayName_L1", P_FIELD, "display_name")) !=
      0)
    goto out;
  int opened = 0;
  for (const xmlAttr *a = decl->properties; a != NULL && rc == 0; a = a->next) {
    const char *name = (const char *)a->name;
    char *key, *v;
    if (a->ns != NULL || strcmp(name, "Identifier") == 0 ||
        strncmp(name, "DisplayName_L", 13) == 0)
      continue;
    if (!opened++)
      io->line(io->arg, decl, NULL, P_FIELD, "params", NULL);
    key = strcmp(name, "Type") == 0 ? strdup("prepare_type")
                                    : jh_xml_snake(name);
    v = value_of(a);
    if (key == NULL || v == NULL)
      rc = -ENOMEM;
    else
      io->line(io->arg, decl, a, P_PFIELD, key,
               is_true(v)            ? "true"
               : strcmp(v, "0") == 0 ? "false"
                                     : v);
    free(key);
    free(v);
  }
  for (const xmlNode *k = decl->children; k != NULL && rc == 0; k = k->next)
    if (k->type == XML_ELEMENT_NODE &&
        strcmp((const char *)k->name, "TaskEntityType") != 0 &&
        strcmp((const char *)k->name, "TaskResourceType") != 0)
      rc = unsupported_node(io, k,
                            "a task added by AddTask takes TaskEntityType "
                            "and TaskResourceType children only");
  for (int list = 0; list < 2 && rc == 0; list++) {
    const char *element = list == 0 ? "TaskEntityType" : "TaskResourceType";
    int items = 0;
    for (const xmlNode *k = decl->children; k != NULL && rc == 0; k = k->next) {
      char *v;
      if (k->type != XML_ELEMENT_NODE ||
          strcmp((const char *)k->name, element) != 0)
        continue;
      v = get(k, list == 0 ? "EntityType" : "ResourceType");
      if (v == NULL && list == 0)
        v = get(k, "Identifier");
      if (v == NULL)
        continue;
      if (!opened++)
        io->line(io->arg, decl, NULL, P_FIELD, "params", NULL);
      if (!items++)
        io->line(io->arg, k, NULL, P_PFIELD,
                 list == 0 ? "entity_types" : "resource_types", NULL);
      io->line(io->arg, k, NULL, P_PITEM, NULL, v);
      free(v);
    }
  }
  if (rc == 0)
    rc = other_attrs(io, n, known);
out:
  free(task);
  free(cmp);
  free(after);
  free(before);
  return rc;
}

static int link_task(const jh_xml_scaffold_io *io, const xmlNode *n) {
  static const char *const known[] = {"Task", "DependOn", "ChildOccurence",
                                      "ParentOccurence", NULL};
  char *task = get(n, "Task"), *dep = get(n, "DependOn");
  int rc;
  if (task == NULL || dep == NULL) {
    rc = unsupported_node(io, n, "LinkDependTask needs Task and DependOn");
  } else {
    io->line(io->arg, n, NULL, P_ITEM, "task", task);
    io->line(io->arg, n, NULL, P_FIELD, "depends_on", dep);
    rc = attr_line(io, n, "ChildOccurence", P_FIELD, "child_occurrence");
    if (rc == 0)
      rc = attr_line(io, n, "ParentOccurence", P_FIELD, "parent_occurrence");
    if (rc == 0)
      rc = other_attrs(io, n, known);
  }
  free(task);
  free(dep);
  return rc;
}

/* Children of one element name, written under `key` by `one`. */
static int children_of(const jh_xml_scaffold_io *io, const xmlNode *n,
                       const char *element, const char *key,
                       int (*one)(const jh_xml_scaffold_io *,
                                  const xmlNode *)) {
  int opened = 0, rc = 0;
  for (const xmlNode *k = n->children; k != NULL && rc == 0; k = k->next)
    if (k->type == XML_ELEMENT_NODE &&
        strcmp((const char *)k->name, element) == 0) {
      if (!opened++)
        io->line(io->arg, k, NULL, P_SC, key, NULL);
      rc = one(io, k);
    }
  return rc;
}

int jh_xml_scaffold_write(const xmlNode *n, const jh_xml_scaffold_io *io) {
  static const char *const known[] = {"JobIdentifier", "DisplayName_L1",
                                      "Connector", "Agent", NULL};
  const char *kind = jh_xml_scaffold_kind((const char *)n->name);
  char *id = jh_xml_scaffold_job_id(n), *v;
  int rc = 0;

  if (id == NULL)
    return -ENOMEM;
  io->line(io->arg, n, NULL, "", "job", NULL);
  io->line(io->arg, n, NULL, P_JOB, "id", id);
  free(id);
  if ((rc = attr_line(io, n, "DisplayName_L1", P_JOB, "display_name")) != 0)
    return rc;
  for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
    const char *an = (const char *)a->name;
    if (a->ns == NULL && strncmp(an, "DisplayName_L", 13) == 0 &&
        strcmp(an, "DisplayName_L1") != 0) {
      char *text = NULL;
      v = value_of(a);
      if (v == NULL || asprintf(&text, "%s: %s", an, v) < 0) {
        free(v);
        return -ENOMEM;
      }
      io->comment(io->arg, n, a, P_JOB, text);
      free(text);
      free(v);
    }
  }
  for (const xmlNode *k = n->children; k != NULL; k = k->next) {
    char *tz;
    if (k->type != XML_ELEMENT_NODE ||
        strcmp((const char *)k->name, "CronTabExpression") != 0)
      continue;
    if ((rc = attr_line(io, k, "CronTab", P_JOB, "schedule")) != 0)
      return rc;
    tz = get(k, "CronTimeZone");
    if (tz != NULL && strcasecmp(tz, "UTC") != 0)
      rc = unsupported_node(io, k,
                            "CronTimeZone: jobhost's schedules have no "
                            "time zone");
    free(tz);
    if (rc != 0)
      return rc;
  }
  io->line(io->arg, n, NULL, P_JOB, "scaffold", NULL);
  io->line(io->arg, n, NULL, P_SC, "kind", kind);
  if ((rc = attr_line(io, n, "Connector", P_SC, "connector")) != 0 ||
      (rc = attr_line(io, n, "Agent", P_SC, "agent")) != 0)
    return rc;
  if ((rc = other_attrs(io, n, known)) != 0)
    return rc;
  for (const xmlNode *k = n->children; k != NULL && rc == 0; k = k->next) {
    const char *kn = (const char *)k->name;
    if (k->type != XML_ELEMENT_NODE)
      continue;
    if (strcmp(kn, "NoProvisioning") == 0)
      io->line(io->arg, k, NULL, P_SC, "no_provisioning", "true");
    else if (strcmp(kn, "NoSynchronization") == 0)
      io->line(io->arg, k, NULL, P_SC, "no_synchronization", "true");
    else if (strcmp(kn, "OpenIdIdentifier") == 0) {
      char *oid = get(k, "Identifier"), *text = NULL;
      if (asprintf(&text,
                   "OpenIdIdentifier %s: jobhost's tasks take no OpenID "
                   "client (open_id_client is accepted, unused)",
                   oid ? oid : "") < 0)
        rc = -ENOMEM;
      else
        io->comment(io->arg, k, NULL, P_SC, text);
      free(text);
      free(oid);
    } else if (strcmp(kn, "CronTabExpression") == 0 ||
               strcmp(kn, "AddTask") == 0 ||
               strcmp(kn, "LinkDependTask") == 0) {
      /* written above or below */
    } else {
      rc = unsupported_node(io, k,
                            strcmp(kn, "DoNotCreateJob") == 0
                                ? "a pipeline is a job (`jobhost scaffold "
                                  "--do-not-create-job` prints the tasks "
                                  "only)"
                                : "jobhost's scaffolds take NoProvisioning, "
                                  "NoSynchronization, AddTask, "
                                  "LinkDependTask, CronTabExpression and "
                                  "OpenIdIdentifier");
    }
  }
  if (rc == 0)
    rc = children_of(io, n, "AddTask", "add_tasks", add_task);
  if (rc == 0)
    rc = children_of(io, n, "LinkDependTask", "link_depend_tasks", link_task);
  return rc;
}
