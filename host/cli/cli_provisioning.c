/*
 * cli_provisioning.c — `jobhost provisioning`: the review of provisioning
 * assignments from the command line (doc/provisioning.md).
 *
 *   jobhost provisioning list [--home DIR] [--state S]
 *                             [--resource-type RT] [--json]
 *   jobhost provisioning list --orphans [--home DIR] [--json]
 *   jobhost provisioning list --profiles [--home DIR] [--json]
 *   jobhost provisioning approve [--home DIR] ID...
 *   jobhost provisioning decline [--home DIR] ID...
 *
 * All read the identity store of the jobhost home (home.h); a home with
 * no identity store has no assignment, and the store is not made for
 * this. Exit status 0; 1 when the store cannot be read or written; 2 on
 * bad usage, and when an id does not exist or is not Awaiting Approval
 * (nothing is changed then).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "array.h"
#include "cli.h"
#include "home.h"
#include "idstore.h"
#include "provstore.h"

#define CMD "jobhost provisioning"

static void usage(FILE *out) {
  fprintf(out,
          "Usage: " CMD " list [--home DIR] [--state S] [--resource-type RT]"
          " [--json]\n"
          "       " CMD " list --orphans [--home DIR] [--json]\n"
          "       " CMD " list --profiles [--home DIR] [--json]\n"
          "       " CMD " approve [--home DIR] ID...\n"
          "       " CMD " decline [--home DIR] ID...\n"
          "\n"
          "The provisioning review: assignments of resource types and their\n"
          "provisioning states. approve sends assignments Awaiting Approval\n"
          "with the next GenerateProvisioningOrdersTask (Pending); decline\n"
          "records the refusal and leaves them until the policy's values\n"
          "change. All the ids given are decided, or none.\n"
          "\n"
          "  --home DIR            the jobhost home (default: $JOBHOST_HOME, "
          "else\n"
          "                        $XDG_STATE_HOME/jobhost, else "
          "~/.local/state/jobhost)\n"
          "  --state S             only assignments in state S (pending,\n"
          "                        transmitted, errored, verified,\n"
          "                        awaiting-approval, inactive, error, "
          "executed,\n"
          "                        none)\n"
          "  --resource-type RT    only assignments of resource type RT\n"
          "  --orphans             the target resources that neither an "
          "owner\n"
          "                        nor a classification rule explains\n"
          "                        (UpdateClassificationTask)\n"
          "  --profiles            the profiles the profile rules gave\n"
          "                        (SetInternalUserProfilesTask)\n"
          "  --json                print a JSON array instead of lines\n"
          "\n"
          "Exit status: 0 done, 1 the identity store cannot be read or "
          "written,\n"
          "2 bad usage, or an id that does not exist or is not Awaiting\n"
          "Approval (nothing changed).\n");
}

/* The options every subcommand reads. */
typedef struct options {
  const char *home;
  const char *resource_type;
  int state; /* -1: any */
  int json;
  int what; /* 0 assignments, 'O' orphans, 'P' profiles */
} options;

/* ---- the store ---- */

/* Open the identity store of the home, when there is one: JH_EXIT_OK and
 * *s (NULL when the home has none), or JH_EXIT_ERROR after saying why. */
static int open_store(const char *sub, const char *home_dir, jh_idstore **s) {
  jh_home home;
  char err[1024];
  int status = JH_EXIT_OK;

  *s = NULL;
  if (jh_home_open(home_dir, &home, err, sizeof(err)) != 0) {
    fprintf(stderr, CMD " %s: %s\n", sub, err);
    return JH_EXIT_ERROR;
  }
  if (access(home.identity_store_path, F_OK) == 0 &&
      jh_idstore_open(home.identity_store_path, s, err, sizeof(err)) != 0) {
    fprintf(stderr, CMD " %s: %s\n", sub, err);
    status = JH_EXIT_ERROR;
  }
  jh_home_clear(&home);
  return status;
}

/* Finish the output: a failed write to stdout is an error. */
static int flush_status(const char *sub, int status) {
  if (fflush(stdout) != 0) {
    fprintf(stderr, CMD " %s: cannot write output: %s\n", sub, strerror(errno));
    return JH_EXIT_ERROR;
  }
  return status;
}

/* ---- property names ---- */

/* Names of property numbers, read once each. */
typedef struct names {
  jh_idstore *s;
  char **name; /* by number, NULL when not read yet */
  size_t cap;
  char fallback[32];
  char err[512];
} names;

static void names_free(names *n) {
  for (size_t i = 0; i < n->cap; i++)
    free(n->name[i]);
  free(n->name);
}

/* The name of property prop (owned by n; "#N" when it has none), or NULL
 * with n->err. */
static const char *name_of(names *n, uint32_t prop) {
  size_t old = n->cap;
  char *got = NULL;
  int rc;

  if (prop < n->cap && n->name[prop] != NULL)
    return n->name[prop];
  rc = jh_idstore_property_name(n->s, prop, &got, n->err, sizeof(n->err));
  if (rc < 0)
    return NULL;
  if (rc == 0) {
    snprintf(n->fallback, sizeof(n->fallback), "#%" PRIu32, prop);
    return n->fallback;
  }
  if (jh_array_reserve(&n->name, &n->cap, (size_t)prop + 1, sizeof(char *),
                       64) != 0) {
    free(got);
    snprintf(n->err, sizeof(n->err), "out of memory");
    return NULL;
  }
  memset(n->name + old, 0, (n->cap - old) * sizeof(char *));
  n->name[prop] = got;
  return got;
}

/* ---- list ---- */

/* A value the next order would change: its policy differs from what the
 * target holds. */
static int differs(const jh_prov_val *v) {
  if (v->has_policy != v->has_observed)
    return 1;
  return v->has_policy && (v->policy_len != v->observed_len ||
                           memcmp(v->policy, v->observed, v->policy_len) != 0);
}

/* What a list prints, and what went wrong. */
typedef struct lister {
  names names;
  int json;
  size_t count;
  json_t *changes;   /* the changes of the current assignment (JSON) */
  int64_t last_prop; /* the last property printed (text), -1 none */
  int failed;        /* a change could not be read or printed */
  char bad[128];     /* what could not be read */
} lister;

/* Text with control characters shown as spaces. */
static void put_text(const char *t) {
  for (; *t != '\0'; t++)
    fputc((unsigned char)*t < 0x20 || *t == 0x7f ? ' ' : *t, stdout);
}

static int text_change(void *ud, const jh_prov_val *v) {
  lister *l = ud;
  const char *name;
  if (!differs(v) || (int64_t)v->prop == l->last_prop)
    return 0;
  if ((name = name_of(&l->names, v->prop)) == NULL)
    return -EIO;
  if (l->last_prop >= 0)
    fputc(',', stdout);
  put_text(name);
  l->last_prop = v->prop;
  return 0;
}

/* A JSON string of n bytes (null for NULL); bytes that are not UTF-8
 * become '?'. */
static json_t *json_bytes(const char *t, size_t n) {
  json_t *v;
  char *copy;
  if (t == NULL)
    return json_null();
  if ((v = json_stringn(t, n)) != NULL || (copy = malloc(n + 1)) == NULL)
    return v;
  for (size_t i = 0; i < n; i++)
    copy[i] = (unsigned char)t[i] >= 0x80 ? '?' : t[i];
  v = json_stringn(copy, n);
  free(copy);
  return v;
}

static json_t *json_text(const char *t) {
  return json_bytes(t, t != NULL ? strlen(t) : 0);
}

/* Set o[key] = v (taking v); nonzero on failure, including v NULL. */
static int jset(json_t *o, const char *key, json_t *v) {
  return json_object_set_new(o, key, v) != 0;
}

static int json_change(void *ud, const jh_prov_val *v) {
  lister *l = ud;
  const char *name;
  json_t *o;
  int bad;
  if (!differs(v))
    return 0;
  if ((name = name_of(&l->names, v->prop)) == NULL)
    return -EIO;
  if ((o = json_object()) == NULL)
    return -ENOMEM;
  bad = jset(o, "property", json_text(name));
  bad |= jset(o, "navigation", json_boolean(v->navigation));
  bad |= jset(o, "policy",
              json_bytes(v->has_policy ? v->policy : NULL, v->policy_len));
  bad |= jset(o, "observed",
              json_bytes(v->has_observed ? v->observed : NULL,
                         v->observed_len));
  bad |= jset(o, "state", json_text(jh_prov_state_name(v->state)));
  if (bad || json_array_append_new(l->changes, o) != 0) {
    if (bad)
      json_decref(o);
    return -ENOMEM;
  }
  return 0;
}

static void print_text(lister *l, const jh_prov_assignment *a) {
  const char *change = jh_change_type_name(a->change_type);
  const char *state = jh_prov_state_name(a->state);
  int rc;
  if (l->count == 0)
    printf("ID\tRESOURCE TYPE\tOWNER\tTARGET\tCHANGE\tSTATE\tCHANGES\n");
  printf("%" PRId64 "\t", a->id);
  put_text(a->resource_type);
  fputc('\t', stdout);
  put_text(a->owner_key != NULL ? a->owner_key : "-");
  fputc('\t', stdout);
  put_text(a->target_key != NULL ? a->target_key : "-");
  printf("\t%s\t%s\t", change != NULL ? change : "?",
         state != NULL ? state : "?");
  l->last_prop = -1;
  rc = jh_prov_vals_decode(a->vals, a->vals_len, text_change, l);
  if (rc != 0)
    l->failed = rc;
  fputc('\n', stdout);
}

static json_t *assignment_json(lister *l, const jh_prov_assignment *a) {
  json_t *o = json_object();
  int bad = o == NULL, rc;
  if (bad)
    return NULL;
  bad |= jset(o, "id", json_integer(a->id));
  bad |= jset(o, "resource_type", json_text(a->resource_type));
  bad |= jset(o, "owner", json_text(a->owner_key));
  bad |= jset(o, "target", json_text(a->target_key));
  bad |= jset(o, "change_type", json_text(jh_change_type_name(a->change_type)));
  bad |= jset(o, "state", json_text(jh_prov_state_name(a->state)));
  bad |= jset(o, "changes", l->changes = json_array());
  if (!bad &&
      (rc = jh_prov_vals_decode(a->vals, a->vals_len, json_change, l)) != 0)
    l->failed = rc;
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static int print_json(lister *l, const jh_prov_assignment *a) {
  json_t *o = assignment_json(l, a);
  char *text = o != NULL ? json_dumps(o, JSON_PRESERVE_ORDER) : NULL;
  json_decref(o);
  if (text == NULL)
    return -ENOMEM;
  printf("%s\n  %s", l->count == 0 ? "[" : ",", text);
  free(text);
  return 0;
}

static int list_one(void *ud, const jh_prov_assignment *a) {
  lister *l = ud;
  int rc = 0;
  if (l->json)
    rc = print_json(l, a);
  else
    print_text(l, a);
  if (rc == 0 && l->failed != 0)
    rc = l->failed;
  if (rc != 0) {
    snprintf(l->bad, sizeof(l->bad), "assignment %" PRId64, a->id);
    return rc;
  }
  l->count++;
  return 0;
}

/* Say why the list stopped; JH_EXIT_ERROR. */
static int list_failed(lister *l, int rc, const char *err) {
  if (rc == -EILSEQ)
    fprintf(stderr, CMD " list: %s: its values cannot be read\n", l->bad);
  else if (rc == -ENOMEM)
    fprintf(stderr, CMD " list: out of memory\n");
  else if (l->bad[0] != '\0')
    fprintf(stderr, CMD " list: %s: %s\n", l->bad, l->names.err);
  else
    fprintf(stderr, CMD " list: %s\n", err);
  return JH_EXIT_ERROR;
}

/* ---- list --orphans, list --profiles ---- */

/* One row of a listing of orphans or profiles. */
typedef struct row_lister {
  int json;
  size_t count;
} row_lister;

/* Print the fields (name, value) of one row: a tab-separated line under
 * a header of the names, or an element of a JSON array. */
static int print_row(row_lister *l, const char *const *fields,
                     const char *const *values, size_t n) {
  json_t *o = l->json ? json_object() : NULL;
  char *text;
  int bad = l->json && o == NULL;
  for (size_t i = 0; !l->json && l->count == 0 && i < n; i++) {
    for (const char *p = fields[i]; *p != '\0'; p++) /* "ENTITY TYPE" */
      fputc(*p == '_' ? ' ' : toupper((unsigned char)*p), stdout);
    fputc(i + 1 < n ? '\t' : '\n', stdout);
  }
  for (size_t i = 0; i < n && !bad; i++) {
    if (l->json) {
      bad = jset(o, fields[i], json_text(values[i]));
      continue;
    }
    put_text(values[i] != NULL ? values[i] : "-");
    fputc(i + 1 < n ? '\t' : '\n', stdout);
  }
  if (l->json) {
    text = bad ? NULL : json_dumps(o, JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL)
      return -ENOMEM;
    printf("%s\n  %s", l->count == 0 ? "[" : ",", text);
    free(text);
  }
  l->count++;
  return 0;
}

static int orphan_row(void *ud, const jh_prov_class *c) {
  static const char *const fields[] = {"entity_type", "key", "since_task",
                                       "updated_at"};
  char task[32];
  const char *values[4] = {c->entity_type, c->key, task, c->updated_at};
  snprintf(task, sizeof(task), "%" PRId64, c->task_instance);
  return print_row(ud, fields, values, 4);
}

static int profile_row(void *ud, const jh_prov_profile *p) {
  static const char *const fields[] = {"entity_type", "key", "profile", "scope",
                                       "assigned_at"};
  const char *values[5] = {p->entity_type, p->key, p->profile,
                           p->scope[0] != '\0' ? p->scope : NULL,
                           p->assigned_at};
  return print_row(ud, fields, values, 5);
}

static int list_rows(jh_idstore *s, const options *o) {
  row_lister l = {.json = o->json};
  char err[1024] = "";
  int rc = s == NULL        ? 0
           : o->what == 'O' ? jh_prov_class_list(s, NULL, 1, orphan_row, &l,
                                                 err, sizeof(err))
                            : jh_prov_profiles_list(s, NULL, profile_row, &l,
                                                    err, sizeof(err));
  if (rc != 0) {
    if (l.count > 0)
      fputc('\n', stdout);
    fprintf(stderr, CMD " list: %s\n",
            rc == -ENOMEM && err[0] == '\0' ? "out of memory" : err);
    return JH_EXIT_ERROR;
  }
  if (o->json)
    printf(l.count == 0 ? "[]\n" : "\n]\n");
  else if (l.count == 0)
    printf("no %s\n", o->what == 'O' ? "orphan" : "profile");
  return JH_EXIT_OK;
}

static int list_run(jh_idstore *s, const options *o) {
  lister l = {.names = {.s = s}, .json = o->json};
  jh_prov_filter f = {.state = o->state, .resource_type = o->resource_type};
  char err[1024] = "";
  int rc = s == NULL ? 0 : jh_prov_list(s, &f, list_one, &l, err, sizeof(err));
  int status = JH_EXIT_OK;

  if (rc != 0) {
    if (l.count > 0 || l.json)
      fputc('\n', stdout);
    status = list_failed(&l, rc, err);
  } else if (o->json) {
    printf(l.count == 0 ? "[]\n" : "\n]\n");
  } else if (l.count == 0) {
    printf("no assignment%s\n",
           o->state >= 0 || o->resource_type != NULL ? " matches" : "");
  }
  names_free(&l.names);
  return status;
}

/* ---- approve, decline ---- */

/* An assignment id: decimal digits, above 0. 0 or -1. */
static int parse_id(const char *text, int64_t *id) {
  char *end;
  long long v;
  if (text[0] < '0' || text[0] > '9')
    return -1;
  errno = 0;
  v = strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v <= 0)
    return -1;
  *id = v;
  return 0;
}

/* The ids of argv[0..n-1] into ids, or JH_EXIT_USAGE after saying which
 * is not one. */
static int parse_ids(const char *sub, char **argv, int n, int64_t *ids) {
  for (int i = 0; i < n; i++)
    if (parse_id(argv[i], &ids[i]) != 0) {
      fprintf(stderr,
              CMD " %s: '%s' is not an assignment id (see " CMD " list)\n", sub,
              argv[i]);
      return JH_EXIT_USAGE;
    }
  return JH_EXIT_OK;
}

static void report_decided(const char *sub, const int64_t *ids, int n) {
  const char *outcome = strcmp(sub, "approve") == 0
                            ? "approved, now Pending"
                            : "declined, now None until its policy changes";
  for (int i = 0; i < n; i++) {
    int seen = 0;
    for (int j = 0; j < i && !seen; j++)
      seen = ids[j] == ids[i];
    if (!seen)
      printf("assignment %" PRId64 ": %s\n", ids[i], outcome);
  }
}

static int decide_run(jh_idstore *s, const char *sub, const int64_t *ids,
                      int n) {
  char err[1024];
  int rc;
  if (s == NULL) {
    fprintf(stderr,
            CMD " %s: assignment %" PRId64 " does not exist (the home has "
                "no identity store): nothing was changed\n",
            sub, ids[0]);
    return JH_EXIT_USAGE;
  }
  rc = strcmp(sub, "approve") == 0
           ? jh_prov_approve(s, ids, (size_t)n, err, sizeof(err))
           : jh_prov_decline(s, ids, (size_t)n, err, sizeof(err));
  if (rc == -ENOENT || rc == -EINVAL) {
    fprintf(stderr, CMD " %s: %s\n", sub, err);
    return JH_EXIT_USAGE;
  }
  if (rc != 0) {
    fprintf(stderr, CMD " %s: %s\n", sub, err);
    return JH_EXIT_ERROR;
  }
  report_decided(sub, ids, n);
  return JH_EXIT_OK;
}

/* ---- the command ---- */

/* Take option c (its value optarg) of subcommand sub into o: 0, or -1
 * after saying why not. */
static int take_option(const char *sub, int c, options *o) {
  int list = strcmp(sub, "list") == 0;
  switch (c) {
  case 'H':
    if (jh_cli_nonempty("provisioning", "--home", optarg, "a folder") != 0)
      return -1;
    o->home = optarg;
    return 0;
  case 'S':
    if (list && (o->state = jh_prov_state_parse(optarg)) < 0) {
      fprintf(stderr, CMD " list: '%s' is not a provisioning state\n", optarg);
      return -1;
    }
    break;
  case 'R':
    if (list && jh_cli_nonempty("provisioning list", "--resource-type", optarg,
                                "a resource type") != 0)
      return -1;
    o->resource_type = optarg;
    break;
  case 'J':
    o->json = 1;
    break;
  case 'O':
  case 'P':
    if (o->what != 0 && o->what != c) {
      fprintf(stderr, CMD " list: --orphans and --profiles exclude each "
                          "other\n");
      return -1;
    }
    o->what = c;
    break;
  default:
    return -1; /* getopt said why */
  }
  if (list)
    return 0;
  fprintf(stderr,
          CMD " %s: --state, --resource-type, --orphans, --profiles and "
              "--json are options of list\n",
          sub);
  return -1;
}

/* Parse the options of subcommand sub (argv[0]). JH_EXIT_OK, or the exit
 * status to end with (-1: the help was printed). */
static int parse_options(const char *sub, int argc, char **argv, options *o) {
  static const struct option opts[] = {{"home", required_argument, NULL, 'H'},
                                       {"state", required_argument, NULL, 'S'},
                                       {"resource-type", required_argument,
                                        NULL, 'R'},
                                       {"json", no_argument, NULL, 'J'},
                                       {"orphans", no_argument, NULL, 'O'},
                                       {"profiles", no_argument, NULL, 'P'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int c;

  optind = 1;
  while ((c = getopt_long(argc, argv, "H:S:R:JOPh", opts, NULL)) != -1) {
    if (c == 'h') {
      usage(stdout);
      return -1;
    }
    if (take_option(sub, c, o) != 0) {
      usage(stderr);
      return JH_EXIT_USAGE;
    }
  }
  if (o->what != 0 && (o->state >= 0 || o->resource_type != NULL)) {
    fprintf(stderr, CMD " list: --state and --resource-type filter "
                        "assignments, not --orphans or --profiles\n");
    usage(stderr);
    return JH_EXIT_USAGE;
  }
  return JH_EXIT_OK;
}

int jh_cmd_provisioning(int argc, char **argv) {
  options o = {.state = -1};
  const char *sub = argc > 1 ? argv[1] : NULL;
  int64_t *ids = NULL;
  jh_idstore *s = NULL;
  int status, nids;

  if (sub == NULL || (strcmp(sub, "list") != 0 && strcmp(sub, "approve") != 0 &&
                      strcmp(sub, "decline") != 0)) {
    if (sub != NULL && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
      usage(stdout);
      return JH_EXIT_OK;
    }
    fprintf(stderr, CMD ": %s\n",
            sub == NULL ? "list, approve or decline?" : "unknown subcommand");
    usage(stderr);
    return JH_EXIT_USAGE;
  }
  status = parse_options(sub, argc - 1, argv + 1, &o);
  if (status != JH_EXIT_OK)
    return status < 0 ? JH_EXIT_OK : status;
  nids = argc - 1 - optind;
  if (strcmp(sub, "list") == 0 ? nids != 0 : nids == 0) {
    fprintf(stderr, CMD " %s: %s\n", sub,
            nids != 0 ? "takes no argument" : "which assignments? give ids");
    usage(stderr);
    return JH_EXIT_USAGE;
  }
  if (nids > 0) {
    if ((ids = calloc((size_t)nids, sizeof(*ids))) == NULL) {
      fprintf(stderr, CMD " %s: out of memory\n", sub);
      return JH_EXIT_ERROR;
    }
    status = parse_ids(sub, argv + 1 + optind, nids, ids);
  }
  if (status == JH_EXIT_OK)
    status = jh_cli_host_defaults("provisioning", &o.home, NULL, NULL, 0);
  if (status == JH_EXIT_OK)
    status = open_store(sub, o.home, &s);
  if (status == JH_EXIT_OK)
    status = nids > 0      ? decide_run(s, sub, ids, nids)
             : o.what != 0 ? list_rows(s, &o)
                           : list_run(s, &o);
  jh_idstore_close(s);
  free(ids);
  return flush_status(sub, status);
}
