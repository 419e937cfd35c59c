/*
 * testkit.c — the test kit (jobhost/testkit.h): a host in a box.
 *
 * What a task sees is built the host's way: the kit writes a model and a
 * one-task pipeline into its temporary folder and loads them with the
 * host's pipeline loader (so parameters and settings are checked by the
 * same rules as `jobhost validate`), against a registry of the plugins
 * the test added and of the built-in ExportTask and FulfillTask, which
 * are compiled into the kit (sdk/local.mk). The task then runs through
 * jh_task_execute, the host's own services table, with its reports
 * applied in process to an outcome, as with --isolation none.
 *
 * A service added to the host's table (host/engine/services.c) is
 * therefore in the kit at once; what the test sets for it is one setter
 * here writing one more line of the model or the pipeline.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <jobhost/testkit.h>

#include "atomic_file.h"
#include "csv.h"
#include "db.h"
#include "diag.h"
#include "home.h"
#include "idstore.h"
#include "loader.h"
#include "order_file.h"
#include "pipeline.h"
#include "services.h"
#include "wire.h"

/* The built-in plugins compiled into the kit, their descriptors renamed
 * (sdk/local.mk). */
extern const jobhost_plugin jh_testkit_export_plugin;
extern const jobhost_plugin jh_testkit_fulfill_plugin;

#define KIT_CONNECTION "TestConnection"
#define KIT_CONNECTOR "TestConnector"
#define KIT_RESOURCE_TYPE "TestResourceType"
#define KIT_TASK "Test"

typedef struct kit_value {
  char *name;
  char *text;   /* scalar, or NULL */
  char **items; /* list, or NULL */
  size_t nitems;
} kit_value;

typedef struct kit_values {
  kit_value *v;
  size_t n;
} kit_values;

typedef struct kit_table {
  char *name;
  char **columns;
  size_t ncolumns;
  char ***rows; /* each ncolumns values */
  size_t nrows;
} kit_table;

/* An entity type of the kit's model (ABI 1.2 read services): property
 * specs as given ("name", "name:type", "name:link[s]:Target"), the first
 * its key. */
typedef struct kit_entity_type {
  char *name;
  char **props;
  size_t nprops;
} kit_entity_type;

typedef struct kit_order {
  int executed;
  char *message;
} kit_order;

struct jobhost_testkit {
  char dir[PATH_MAX];
  char error[2048];
  jh_home home;
  jh_registry reg;
  kit_values params, settings;
  char **secrets;
  size_t nsecrets;
  char *package;
  kit_entity_type *ets;
  size_t nets;
  unsigned runs;
  /* the last run */
  jh_outcome outcome;
  char **log;
  size_t nlog;
  kit_table *tables;
  size_t ntables;
  kit_order *orders;
  size_t norders;
  void *cookie;
  size_t cookie_len;
  int has_cookie;
};

static int fail(jobhost_testkit *kit, int rc, const char *fmt, ...)
    JOBHOST_PRINTF(3, 4);
static int fail(jobhost_testkit *kit, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(kit->error, sizeof(kit->error), fmt, ap);
  va_end(ap);
  return rc;
}

/* An identifier the kit writes unquoted into its model. */
static int plain_id(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > 100)
    return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '_'))
      return 0;
  return 1;
}

/* ---- values ---- */

static void value_free(kit_value *v) {
  free(v->name);
  free(v->text);
  for (size_t i = 0; i < v->nitems; i++)
    free(v->items[i]);
  free(v->items);
  memset(v, 0, sizeof(*v));
}

static void values_clear(kit_values *vs) {
  for (size_t i = 0; i < vs->n; i++)
    value_free(&vs->v[i]);
  free(vs->v);
  vs->v = NULL;
  vs->n = 0;
}

/* The slot of name (made when absent), emptied; NULL when out of memory. */
static kit_value *value_slot(kit_values *vs, const char *name) {
  kit_value *grown;
  for (size_t i = 0; i < vs->n; i++)
    if (strcmp(vs->v[i].name, name) == 0) {
      char *keep = vs->v[i].name;
      vs->v[i].name = NULL;
      value_free(&vs->v[i]);
      vs->v[i].name = keep;
      return &vs->v[i];
    }
  grown = realloc(vs->v, (vs->n + 1) * sizeof(*grown));
  if (grown == NULL)
    return NULL;
  vs->v = grown;
  memset(&vs->v[vs->n], 0, sizeof(vs->v[vs->n]));
  vs->v[vs->n].name = strdup(name);
  if (vs->v[vs->n].name == NULL)
    return NULL;
  return &vs->v[vs->n++];
}

static void value_unset(kit_values *vs, const char *name) {
  for (size_t i = 0; i < vs->n; i++)
    if (strcmp(vs->v[i].name, name) == 0) {
      value_free(&vs->v[i]);
      vs->v[i] = vs->v[--vs->n];
      return;
    }
}

static const kit_value *value_find(const kit_values *vs, const char *name) {
  for (size_t i = 0; i < vs->n; i++)
    if (strcmp(vs->v[i].name, name) == 0)
      return &vs->v[i];
  return NULL;
}

static int set_text(jobhost_testkit *kit, kit_values *vs, const char *name,
                    const char *value) {
  kit_value *v;
  if (name == NULL || *name == '\0')
    return fail(kit, -EINVAL, "a name is required");
  if (value == NULL) {
    value_unset(vs, name);
    return 0;
  }
  v = value_slot(vs, name);
  if (v == NULL || (v->text = strdup(value)) == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  return 0;
}

/* ---- the kit ---- */

int jobhost_testkit_new(jobhost_testkit **out) {
  jobhost_testkit *kit = calloc(1, sizeof(*kit));
  const char *tmp = getenv("TMPDIR");
  char err[512], home[PATH_MAX + 8], secrets[PATH_MAX + 8];
  int rc;

  *out = NULL;
  if (kit == NULL)
    return -ENOMEM;
  kit->outcome.produced_output = -1;
  if (tmp == NULL || *tmp == '\0')
    tmp = "/tmp";
  if ((size_t)snprintf(kit->dir, sizeof(kit->dir), "%s/jobhost-testkit.XXXXXX",
                       tmp) >= sizeof(kit->dir) - 32 ||
      mkdtemp(kit->dir) == NULL) {
    free(kit);
    return -errno;
  }
  snprintf(home, sizeof(home), "%s/home", kit->dir);
  snprintf(secrets, sizeof(secrets), "%s/secrets", kit->dir);
  rc = mkdir(secrets, 0700) == 0 ? 0 : -errno;
  if (rc == 0)
    rc = jh_home_open(home, &kit->home, err, sizeof(err));
  if (rc == 0)
    rc = jobhost_testkit_add_plugin(kit, &jh_testkit_export_plugin);
  if (rc == 0)
    rc = jobhost_testkit_add_plugin(kit, &jh_testkit_fulfill_plugin);
  if (rc != 0) {
    jobhost_testkit_free(kit);
    return rc;
  }
  *out = kit;
  return 0;
}

static void last_run_clear(jobhost_testkit *kit) {
  jh_outcome_close_log(&kit->outcome);
  jh_outcome_clear(&kit->outcome);
  memset(&kit->outcome, 0, sizeof(kit->outcome));
  kit->outcome.produced_output = -1;
  for (size_t i = 0; i < kit->nlog; i++)
    free(kit->log[i]);
  free(kit->log);
  kit->log = NULL;
  kit->nlog = 0;
  for (size_t t = 0; t < kit->ntables; t++) {
    kit_table *tb = &kit->tables[t];
    for (size_t r = 0; r < tb->nrows; r++) {
      for (size_t c = 0; c < tb->ncolumns; c++)
        free(tb->rows[r][c]);
      free(tb->rows[r]);
    }
    for (size_t c = 0; c < tb->ncolumns; c++)
      free(tb->columns[c]);
    free(tb->columns);
    free(tb->rows);
    free(tb->name);
  }
  free(kit->tables);
  kit->tables = NULL;
  kit->ntables = 0;
  for (size_t i = 0; i < kit->norders; i++)
    free(kit->orders[i].message);
  free(kit->orders);
  kit->orders = NULL;
  kit->norders = 0;
  free(kit->cookie);
  kit->cookie = NULL;
  kit->cookie_len = 0;
  kit->has_cookie = 0;
}

void jobhost_testkit_free(jobhost_testkit *kit) {
  if (kit == NULL)
    return;
  last_run_clear(kit);
  values_clear(&kit->params);
  values_clear(&kit->settings);
  for (size_t i = 0; i < kit->nsecrets; i++)
    free(kit->secrets[i]);
  free(kit->secrets);
  free(kit->package);
  for (size_t i = 0; i < kit->nets; i++) {
    free(kit->ets[i].name);
    for (size_t k = 0; k < kit->ets[i].nprops; k++)
      free(kit->ets[i].props[k]);
    free(kit->ets[i].props);
  }
  free(kit->ets);
  for (size_t i = 0; i < kit->reg.nplugins; i++)
    free(kit->reg.plugins[i].path);
  free(kit->reg.plugins);
  jh_home_clear(&kit->home);
  if (kit->dir[0] != '\0')
    (void)jh_remove_tree(kit->dir);
  free(kit);
}

const char *jobhost_testkit_error(const jobhost_testkit *kit) {
  return kit->error;
}

int jobhost_testkit_add_plugin(jobhost_testkit *kit,
                               const jobhost_plugin *plugin) {
  char why[512];
  jh_plugin *grown;
  int rc;

  kit->error[0] = '\0';
  if (plugin == NULL)
    return fail(kit, -EINVAL, "no plugin descriptor");
  rc = jh_descriptor_check(plugin, why, sizeof(why));
  if (rc != 0)
    return fail(kit, rc, "plugin refused: %s", why);
  for (size_t j = 0; plugin->task_types && plugin->task_types[j].name; j++)
    if (jh_registry_task_type(&kit->reg, plugin->task_types[j].name, NULL))
      return fail(kit, JOBHOST_EDUPLICATE,
                  "plugin refused: task type '%s' is already provided",
                  plugin->task_types[j].name);
  for (size_t j = 0; plugin->packages && plugin->packages[j].name; j++)
    if (jh_registry_package(&kit->reg, plugin->packages[j].name, NULL))
      return fail(kit, JOBHOST_EDUPLICATE,
                  "plugin refused: package '%s' is already provided",
                  plugin->packages[j].name);
  grown = realloc(kit->reg.plugins,
                  (kit->reg.nplugins + 1) * sizeof(*kit->reg.plugins));
  if (grown == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  kit->reg.plugins = grown;
  memset(&grown[kit->reg.nplugins], 0, sizeof(*grown));
  grown[kit->reg.nplugins].desc = plugin;
  grown[kit->reg.nplugins].path = strdup("(added by the test)");
  if (grown[kit->reg.nplugins].path == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  kit->reg.nplugins++;
  return 0;
}

int jobhost_testkit_param(jobhost_testkit *kit, const char *name,
                          const char *value) {
  kit->error[0] = '\0';
  return set_text(kit, &kit->params, name, value);
}

int jobhost_testkit_param_list(jobhost_testkit *kit, const char *name,
                               const char *const *items, size_t n) {
  kit_value *v;
  kit->error[0] = '\0';
  if (name == NULL || *name == '\0' || (items == NULL && n > 0))
    return fail(kit, -EINVAL, "a name and the items are required");
  v = value_slot(&kit->params, name);
  if (v == NULL || (v->items = calloc(n + 1, sizeof(char *))) == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  for (v->nitems = 0; v->nitems < n; v->nitems++)
    if ((v->items[v->nitems] = strdup(items[v->nitems])) == NULL)
      return fail(kit, -ENOMEM, "out of memory");
  return 0;
}

int jobhost_testkit_setting(jobhost_testkit *kit, const char *name,
                            const char *value) {
  kit->error[0] = '\0';
  return set_text(kit, &kit->settings, name, value);
}

int jobhost_testkit_setting_list(jobhost_testkit *kit, const char *name,
                                 const char *const *items, size_t n) {
  kit_value *v;
  kit->error[0] = '\0';
  if (name == NULL || *name == '\0' || (items == NULL && n > 0))
    return fail(kit, -EINVAL, "a name and the items are required");
  v = value_slot(&kit->settings, name);
  if (v == NULL || (v->items = calloc(n + 1, sizeof(char *))) == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  for (v->nitems = 0; v->nitems < n; v->nitems++)
    if ((v->items[v->nitems] = strdup(items[v->nitems])) == NULL)
      return fail(kit, -ENOMEM, "out of memory");
  return 0;
}

/* ---- entity types and resources (ABI 1.2 read services) ---- */

/* The parts of a property spec "name[:type[:target]]" (copied into buf):
 * name, type ("string" when not given) and target (NULL). */
static void prop_parts(const char *spec, char *buf, size_t size,
                       const char **name, const char **type,
                       const char **target) {
  char *c;
  snprintf(buf, size, "%s", spec);
  *name = buf;
  *type = "string";
  *target = NULL;
  if ((c = strchr(buf, ':')) != NULL) {
    *c = '\0';
    *type = c + 1;
    if ((c = strchr(c + 1, ':')) != NULL) {
      *c = '\0';
      *target = c + 1;
    }
  }
}

static const kit_entity_type *kit_et(const jobhost_testkit *kit,
                                     const char *name) {
  for (size_t i = 0; name != NULL && i < kit->nets; i++)
    if (strcmp(kit->ets[i].name, name) == 0)
      return &kit->ets[i];
  return NULL;
}

int jobhost_testkit_entity_type(jobhost_testkit *kit, const char *name,
                                const char *const *properties, size_t n) {
  kit_entity_type *grown, *et;
  kit->error[0] = '\0';
  if (!plain_id(name) || properties == NULL || n == 0)
    return fail(kit, -EINVAL, "an entity type needs a name and properties");
  if (kit_et(kit, name) != NULL)
    return fail(kit, -EEXIST, "entity type %s is already declared", name);
  for (size_t i = 0; i < n; i++) {
    char buf[256];
    const char *pn, *type, *target;
    prop_parts(properties[i], buf, sizeof(buf), &pn, &type, &target);
    if (!plain_id(pn) || (i == 0 && strncmp(type, "link", 4) == 0))
      return fail(kit, -EINVAL,
                  "property spec '%s': expected name, "
                  "name:type or name:link[s]:Target (the first is the key, "
                  "not a link)",
                  properties[i]);
  }
  grown = realloc(kit->ets, (kit->nets + 1) * sizeof(*grown));
  if (grown == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  kit->ets = grown;
  et = &grown[kit->nets];
  memset(et, 0, sizeof(*et));
  et->name = strdup(name);
  et->props = calloc(n, sizeof(*et->props));
  if (et->name == NULL || et->props == NULL) {
    free(et->name);
    free(et->props);
    return fail(kit, -ENOMEM, "out of memory");
  }
  kit->nets++;
  for (et->nprops = 0; et->nprops < n; et->nprops++)
    if ((et->props[et->nprops] = strdup(properties[et->nprops])) == NULL)
      return fail(kit, -ENOMEM, "out of memory");
  return 0;
}

/* The spec of property `prop` of et: its type in *type; NULL if none. */
static const char *kit_prop(const kit_entity_type *et, const char *prop,
                            char *buf, size_t size, const char **type) {
  for (size_t i = 0; i < et->nprops; i++) {
    const char *name, *target;
    prop_parts(et->props[i], buf, size, &name, type, &target);
    if (strcmp(name, prop) == 0)
      return et->props[i];
  }
  return NULL;
}

/* Put one resource into the identity store as a synchronization would:
 * its values encoded (lib/idstore.h), a links property's values as rows
 * of the links table under the association the model gives it. */
static int store_resource(jobhost_testkit *kit, const kit_entity_type *et,
                          const char *key, const char *const *values, size_t n,
                          char *err, size_t errsize) {
  jh_idstore *s = NULL;
  jh_idstore_value *vals = calloc(n ? n : 1, sizeof(*vals));
  uint32_t *props = calloc(n ? n : 1, sizeof(*props));
  size_t *order = calloc(n ? n : 1, sizeof(*order));
  jh_idstore_value *sorted = calloc(n ? n : 1, sizeof(*sorted));
  char *data = NULL, buf[256], assoc[512];
  size_t cap = 0, nv = 0, len;
  int64_t etid;
  sqlite3_stmt *st;
  jh_db *db;
  int rc;

  if (vals == NULL || props == NULL || order == NULL || sorted == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  rc = jh_idstore_open(kit->home.identity_store_path, &s, err, errsize);
  if (rc == 0)
    rc = jh_idstore_entity_type(s, et->name, KIT_CONNECTOR, &etid, err,
                                errsize);
  db = rc == 0 ? jh_idstore_db(s) : NULL;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const char *eq = strchr(values[i], '='), *type;
    char name[256];
    snprintf(name, sizeof(name), "%.*s", (int)(eq - values[i]), values[i]);
    (void)kit_prop(et, name, buf, sizeof(buf), &type);
    if (strcmp(type, "links") == 0) {
      snprintf(assoc, sizeof(assoc), "%s_%s", et->name, name);
      st = jh_db_stmt(db, "INSERT OR IGNORE INTO links(association, value1, "
                          "value2, connector) VALUES(?1, ?2, ?3, ?4)");
      rc = st == NULL
               ? -EIO
               : JH_DB_BIND(db, st, JH_DB_TEXT(assoc), JH_DB_TEXT(key),
                            JH_DB_TEXT(eq + 1), JH_DB_TEXT(KIT_CONNECTOR));
      if (rc == 0)
        rc = jh_db_step_done(db, st, "links");
      jh_db_done(db, st);
      continue;
    }
    rc = jh_idstore_property(s, name, &props[nv], err, errsize);
    vals[nv].prop = props[nv];
    vals[nv].value = eq + 1;
    vals[nv].length = strlen(eq + 1);
    nv++;
  }
  if (rc == 0) {
    jh_idstore_sort_props(props, nv, order);
    for (size_t i = 0; i < nv; i++)
      sorted[i] = vals[order[i]];
    len = jh_idstore_encode(sorted, nv, &data, &cap);
    rc = len == (size_t)-1 ? -ENOMEM : 0;
    st = rc == 0 ? jh_db_stmt(db, "INSERT OR REPLACE INTO resources("
                                  "entity_type, key, data) VALUES(?1, ?2, "
                                  "?3)")
                 : NULL;
    if (rc == 0)
      rc = st == NULL ? -EIO
                      : JH_DB_BIND(db, st, JH_DB_INT(etid), JH_DB_TEXT(key),
                                   JH_DB_BLOB(data ? data : "", len));
    if (rc == 0)
      rc = jh_db_step_done(db, st, "resources");
    jh_db_done(db, st);
  }
  if (rc == -EIO && db != NULL && err[0] == '\0')
    snprintf(err, errsize, "%s", jh_db_errmsg(db));
out:
  jh_idstore_close(s);
  free(data);
  free(vals);
  free(props);
  free(order);
  free(sorted);
  return rc;
}

int jobhost_testkit_resource(jobhost_testkit *kit, const char *entity_type,
                             const char *const *values, size_t n) {
  const kit_entity_type *et = kit_et(kit, entity_type);
  const char *key = NULL, *type, *keyname;
  char buf[256], err[512] = "";
  int rc;

  kit->error[0] = '\0';
  if (et == NULL)
    return fail(kit, -ENOENT,
                "entity type %s is not declared "
                "(jobhost_testkit_entity_type)",
                entity_type != NULL ? entity_type : "(none)");
  prop_parts(et->props[0], buf, sizeof(buf), &keyname, &type, &key);
  key = NULL;
  for (size_t i = 0; i < n; i++) {
    const char *eq = values[i] != NULL ? strchr(values[i], '=') : NULL;
    char name[256], pbuf[256];
    if (eq == NULL)
      return fail(kit, -EINVAL, "value '%s': expected property=value",
                  values[i] != NULL ? values[i] : "(null)");
    snprintf(name, sizeof(name), "%.*s", (int)(eq - values[i]), values[i]);
    if (kit_prop(et, name, pbuf, sizeof(pbuf), &type) == NULL)
      return fail(kit, -EINVAL, "entity type %s has no property %s", et->name,
                  name);
    if (strcmp(name, keyname) == 0)
      key = eq + 1;
  }
  if (key == NULL || *key == '\0')
    return fail(kit, -EINVAL, "a resource of %s needs its key %s", et->name,
                keyname);
  rc = store_resource(kit, et, key, values, n, err, sizeof(err));
  return rc != 0 ? fail(kit, rc, "cannot store the resource: %s",
                        err[0] ? err : strerror(-rc))
                 : 0;
}

/* A name that can be a file name stem. */
static int plain_name(const char *name) {
  if (name == NULL || *name == '\0' || name[0] == '.' || strlen(name) > 200)
    return 0;
  for (const char *p = name; *p; p++)
    if (*p == '/' || (unsigned char)*p < 0x20)
      return 0;
  return 1;
}

static char *secret_path(const jobhost_testkit *kit, const char *name) {
  char *path = NULL;
  if (asprintf(&path, "%s/secrets/%s", kit->dir, name) < 0)
    return NULL;
  return path;
}

int jobhost_testkit_secret(jobhost_testkit *kit, const char *name,
                           const char *value) {
  char *path, **grown;
  int rc, known = 0;

  kit->error[0] = '\0';
  if (!plain_name(name) || value == NULL)
    return fail(kit, -EINVAL, "a secret needs a plain name and a value");
  path = secret_path(kit, name);
  if (path == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  rc = jh_write_file_atomic(path, value, strlen(value), 0600);
  free(path);
  if (rc != 0)
    return fail(kit, rc, "cannot keep secret %s: %s", name, strerror(-rc));
  for (size_t i = 0; i < kit->nsecrets; i++)
    known |= strcmp(kit->secrets[i], name) == 0;
  if (known)
    return 0;
  grown = realloc(kit->secrets, (kit->nsecrets + 1) * sizeof(*grown));
  if (grown == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  kit->secrets = grown;
  if ((grown[kit->nsecrets] = strdup(name)) == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  kit->nsecrets++;
  return 0;
}

static char *cookie_file(const jobhost_testkit *kit) {
  char *path = NULL;
  if (asprintf(&path, "%s/%s.cookie",
               kit->home.folders[JOBHOST_FOLDER_EXPORT_COOKIES],
               KIT_CONNECTION) < 0)
    return NULL;
  return path;
}

int jobhost_testkit_cookie(jobhost_testkit *kit, const void *data,
                           size_t size) {
  char *path = cookie_file(kit);
  int rc = 0;
  kit->error[0] = '\0';
  if (path == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  if (data == NULL) {
    if (unlink(path) != 0 && errno != ENOENT)
      rc = -errno;
  } else {
    rc = jh_write_file_atomic(path, data, size, 0640);
  }
  free(path);
  return rc != 0 ? fail(kit, rc, "cannot set the cookie: %s", strerror(-rc))
                 : 0;
}

int jobhost_testkit_package(jobhost_testkit *kit, const char *package) {
  char *copy = NULL;
  kit->error[0] = '\0';
  if (package != NULL && (copy = strdup(package)) == NULL)
    return fail(kit, -ENOMEM, "out of memory");
  free(kit->package);
  kit->package = copy;
  return 0;
}

void jobhost_testkit_clear_params(jobhost_testkit *kit) {
  values_clear(&kit->params);
}

/* ---- the model and the pipeline, as files ---- */

/* A YAML double-quoted scalar. */
static void yaml_quoted(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\x%02x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void yaml_value(FILE *f, const kit_value *v) {
  if (v->text != NULL) {
    yaml_quoted(f, v->text);
    return;
  }
  fputc('[', f);
  for (size_t i = 0; i < v->nitems; i++) {
    if (i > 0)
      fputs(", ", f);
    yaml_quoted(f, v->items[i]);
  }
  fputc(']', f);
}

/* The model: the kit's connector and connection (when a package is
 * named) and, for a fulfill, one resource type whose target's key is
 * `key`. */
/* The entity types the test declared, their mappings and association
 * mappings (the kit's connector fills them all); `more` says whether a
 * fulfill's entity types follow in the same sections. */
static void write_entity_types(const jobhost_testkit *kit, FILE *f) {
  char buf[256];
  const char *name, *type, *target;
  fputs("entity_types:\n", f);
  for (size_t i = 0; i < kit->nets; i++) {
    fprintf(f, "  - id: %s\n    properties:\n", kit->ets[i].name);
    for (size_t k = 0; k < kit->ets[i].nprops; k++) {
      prop_parts(kit->ets[i].props[k], buf, sizeof(buf), &name, &type, &target);
      fprintf(f, "      - {id: %s, type: %s", name, type);
      if (target != NULL)
        fprintf(f, ", target: %s", target);
      fputs("}\n", f);
    }
  }
}

static void write_mappings(const jobhost_testkit *kit, FILE *f) {
  char buf[256];
  const char *name, *type, *target;
  int assoc = 0;
  fputs("entity_type_mappings:\n", f);
  for (size_t i = 0; i < kit->nets; i++) {
    fprintf(f,
            "  - entity_type: %s\n    connector: %s\n"
            "    connection_table: %s\n    properties:\n",
            kit->ets[i].name, KIT_CONNECTOR, kit->ets[i].name);
    for (size_t k = 0; k < kit->ets[i].nprops; k++) {
      prop_parts(kit->ets[i].props[k], buf, sizeof(buf), &name, &type, &target);
      if (strcmp(type, "links") == 0) {
        assoc = 1;
        continue;
      }
      fprintf(f, "      - {property: %s, column: %s%s}\n", name, name,
              k == 0 ? ", primary_key: true" : "");
    }
  }
  if (!assoc)
    return;
  fputs("association_mappings:\n", f);
  for (size_t i = 0; i < kit->nets; i++)
    for (size_t k = 0; k < kit->ets[i].nprops; k++) {
      prop_parts(kit->ets[i].props[k], buf, sizeof(buf), &name, &type, &target);
      if (strcmp(type, "links") == 0)
        fprintf(f,
                "  - {id: %s_%s, connector: %s, connection_table: %s_%s, "
                "entity_type: %s, property: %s, column1: owner, column2: "
                "target}\n",
                kit->ets[i].name, name, KIT_CONNECTOR, kit->ets[i].name, name,
                kit->ets[i].name, name);
    }
}

static void write_model(const jobhost_testkit *kit, FILE *f, const char *key) {
  fprintf(f, "connectors:\n  - id: %s\n", KIT_CONNECTOR);
  if (kit->nets > 0 && key == NULL) {
    write_entity_types(kit, f);
    write_mappings(kit, f);
  }
  if (kit->package == NULL)
    return;
  fprintf(f, "connections:\n  - id: %s\n    connector: %s\n    package: ",
          KIT_CONNECTION, KIT_CONNECTOR);
  yaml_quoted(f, kit->package);
  fputc('\n', f);
  if (kit->settings.n > 0)
    fputs("    settings:\n", f);
  for (size_t i = 0; i < kit->settings.n; i++) {
    fputs("      ", f);
    yaml_quoted(f, kit->settings.v[i].name);
    fputs(": ", f);
    yaml_value(f, &kit->settings.v[i]);
    fputc('\n', f);
  }
  if (kit->nsecrets > 0)
    fputs("    secrets:\n", f);
  for (size_t i = 0; i < kit->nsecrets; i++) {
    char *path = secret_path(kit, kit->secrets[i]);
    fputs("      ", f);
    yaml_quoted(f, kit->secrets[i]);
    fputs(": {file: ", f);
    yaml_quoted(f, path != NULL ? path : "");
    fputs("}\n", f);
    free(path);
  }
  if (key == NULL)
    return;
  fputs("entity_types:\n  - id: TestSource\n    properties:\n"
        "      - {id: id, type: string}\n"
        "  - id: TestTarget\n    properties:\n      - {id: ",
        f);
  yaml_quoted(f, key);
  fputs(", type: string}\n", f);
  fprintf(f,
          "entity_type_mappings:\n  - entity_type: TestTarget\n"
          "    connector: %s\n    connection_table: %s\n    properties:\n"
          "      - {property: ",
          KIT_CONNECTOR, KIT_CONNECTION);
  yaml_quoted(f, key);
  fputs(", column: ", f);
  yaml_quoted(f, key);
  fputs(", primary_key: true}\n", f);
  fprintf(f,
          "resource_types:\n  - id: %s\n    source_entity_type: TestSource\n"
          "    target_entity_type: TestTarget\n",
          KIT_RESOURCE_TYPE);
}

static const jobhost_param *declared(const jobhost_task_type *t,
                                     const char *name) {
  for (size_t i = 0; t->params != NULL && t->params[i].name != NULL; i++)
    if (strcmp(t->params[i].name, name) == 0)
      return &t->params[i];
  return NULL;
}

/* The pipeline: one task, the parameters set, and defaults the kit
 * gives (the connection; a fulfill's resource type). */
static void write_pipeline(const jobhost_testkit *kit, FILE *f,
                           const jobhost_task_type *t, int fulfill) {
  fputs("version: 1\ninclude: [model.yaml]\njob:\n  id: TestJob\n"
        "  tasks:\n    - id: " KIT_TASK "\n      type: ",
        f);
  yaml_quoted(f, t->name);
  fputc('\n', f);
  for (size_t i = 0; i < kit->params.n; i++) {
    fputs("      ", f);
    yaml_quoted(f, kit->params.v[i].name);
    fputs(": ", f);
    yaml_value(f, &kit->params.v[i]);
    fputc('\n', f);
  }
  if (kit->package != NULL &&
      declared(t, JOBHOST_PARAM_NAME_CONNECTION) != NULL &&
      value_find(&kit->params, JOBHOST_PARAM_NAME_CONNECTION) == NULL)
    fputs("      " JOBHOST_PARAM_NAME_CONNECTION ": " KIT_CONNECTION "\n", f);
  if (fulfill && value_find(&kit->params, "resource_types") == NULL &&
      value_find(&kit->params, JOBHOST_PARAM_NAME_CONNECTOR) == NULL)
    fputs("      resource_types: [" KIT_RESOURCE_TYPE "]\n", f);
}

static int write_files(jobhost_testkit *kit, const jobhost_task_type *t,
                       const char *key, char *pipeline, size_t size) {
  char model[PATH_MAX + 16];
  FILE *f;
  int rc = 0;

  snprintf(model, sizeof(model), "%s/model.yaml", kit->dir);
  snprintf(pipeline, size, "%s/pipeline.yaml", kit->dir);
  f = fopen(model, "w");
  if (f == NULL)
    return fail(kit, -errno, "%s: %s", model, strerror(errno));
  fputs("version: 1\n", f);
  write_model(kit, f, key);
  if (fclose(f) != 0)
    rc = -EIO;
  f = rc == 0 ? fopen(pipeline, "w") : NULL;
  if (f == NULL)
    return fail(kit, -EIO, "%s: cannot write", pipeline);
  write_pipeline(kit, f, t, key != NULL);
  if (fclose(f) != 0)
    return fail(kit, -EIO, "%s: cannot write", pipeline);
  return 0;
}

/* ---- reading back what the run did ---- */

static int push_line(jobhost_testkit *kit, const char *line) {
  char **grown = realloc(kit->log, (kit->nlog + 1) * sizeof(*grown));
  if (grown == NULL)
    return -ENOMEM;
  kit->log = grown;
  if ((grown[kit->nlog] = strdup(line)) == NULL)
    return -ENOMEM;
  kit->nlog++;
  return 0;
}

/* The log, each line without its time stamp (the first word). */
static int read_log(jobhost_testkit *kit, const char *path) {
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = 0;

  if (f == NULL)
    return errno == ENOENT ? 0 : -errno;
  while (rc == 0 && (len = getline(&line, &cap, f)) > 0) {
    char *text = strchr(line, ' ');
    if (line[len - 1] == '\n')
      line[len - 1] = '\0';
    rc = push_line(kit, text != NULL ? text + 1 : line);
  }
  free(line);
  fclose(f);
  return rc;
}

static char **copy_record(const jh_csv_record *rec, size_t n) {
  char **v = calloc(n ? n : 1, sizeof(char *));
  for (size_t i = 0; v != NULL && i < n; i++) {
    v[i] = strdup(i < rec->nfields ? rec->fields[i] : "");
    if (v[i] == NULL) {
      for (size_t k = 0; k < i; k++)
        free(v[k]);
      free(v);
      return NULL;
    }
  }
  return v;
}

static int read_table(kit_table *t, const char *path) {
  jh_csv_options opt = {.header = 1};
  jh_csv_reader *r = NULL;
  const jh_csv_record *rec;
  int rc = jh_csv_reader_open(path, &opt, &r, NULL, 0);

  if (rc != 0)
    return rc;
  rec = jh_csv_reader_header(r);
  t->ncolumns = rec->nfields;
  t->columns = copy_record(rec, t->ncolumns);
  rc = t->columns != NULL ? 0 : -ENOMEM;
  while (rc == 0 && (rc = jh_csv_read(r, &rec)) == 1) {
    char ***grown = realloc(t->rows, (t->nrows + 1) * sizeof(*grown));
    rc = grown != NULL ? 0 : -ENOMEM;
    if (rc == 0) {
      t->rows = grown;
      grown[t->nrows] = copy_record(rec, t->ncolumns);
      rc = grown[t->nrows] != NULL ? 0 : -ENOMEM;
      if (rc == 0)
        t->nrows++;
    }
  }
  jh_csv_reader_close(r);
  return rc;
}

static int is_table_file(const char *name) {
  size_t n = strlen(name);
  return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".csv") == 0;
}

static int collect_table(const char *path, const char *name, void *arg) {
  jobhost_testkit *kit = arg;
  kit_table *grown;
  if (!is_table_file(name))
    return 0;
  grown = realloc(kit->tables, (kit->ntables + 1) * sizeof(*grown));
  if (grown == NULL)
    return 1;
  kit->tables = grown;
  memset(&grown[kit->ntables], 0, sizeof(*grown));
  grown[kit->ntables].name = strndup(name, strlen(name) - 4);
  if (grown[kit->ntables].name == NULL)
    return 1;
  kit->ntables++;
  return read_table(&grown[kit->ntables - 1], path) != 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const kit_table *)a)->name, ((const kit_table *)b)->name);
}

static int remove_entry(const char *path, const char *name, void *arg) {
  (void)arg;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return 0;
  return jh_remove_tree(path) != 0;
}

static int read_cookie(jobhost_testkit *kit) {
  char *path = cookie_file(kit);
  FILE *f;
  long len;
  int rc = 0;

  if (path == NULL)
    return -ENOMEM;
  f = fopen(path, "rb");
  free(path);
  if (f == NULL)
    return errno == ENOENT ? 0 : -errno;
  if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0)
    rc = -EIO;
  if (rc == 0 && (kit->cookie = malloc((size_t)len + 1)) == NULL)
    rc = -ENOMEM;
  if (rc == 0 && fread(kit->cookie, 1, (size_t)len, f) != (size_t)len)
    rc = -EIO;
  fclose(f);
  if (rc == 0) {
    kit->cookie_len = (size_t)len;
    kit->has_cookie = 1;
  }
  return rc;
}

/* ---- running ---- */

static int load(jobhost_testkit *kit, const char *path, jh_pipeline **out) {
  jh_diags d = JH_DIAGS_INIT;
  int rc = jh_pipeline_load(path, &kit->reg, out, &d);
  /* the plugins' own checks, as jobhost validate and run make them */
  if (rc == 0 && d.nerrors == 0)
    rc = jh_pipeline_validate(*out, &d);
  if (rc != 0 || d.nerrors > 0) {
    const jh_diag *first = NULL;
    for (size_t i = 0; i < d.n && first == NULL; i++)
      if (d.items[i].severity == JH_DIAG_ERROR)
        first = &d.items[i];
    fail(kit, JOBHOST_ECONFIG, "the task cannot run: %s:%d:%d: %s",
         first && first->file ? first->file : path, first ? first->line : 0,
         first ? first->column : 0,
         first ? first->message : "the pipeline cannot be loaded");
    jh_diags_clear(&d);
    if (*out != NULL)
      jh_pipeline_free(*out);
    *out = NULL;
    return JOBHOST_ECONFIG;
  }
  jh_diags_clear(&d);
  return 0;
}

/* Run the task of type `type`; key: a fulfill's target key (NULL for
 * anything else). */
static int run_task(jobhost_testkit *kit, const char *type, const char *key) {
  const jobhost_task_type *t;
  char pipeline[PATH_MAX + 16], work[PATH_MAX + 32], logp[PATH_MAX + 32];
  jh_pipeline *p = NULL;
  jh_task_env env;
  volatile sig_atomic_t cancelled = 0;
  int rc;

  last_run_clear(kit);
  kit->error[0] = '\0';
  t = type != NULL ? jh_registry_task_type(&kit->reg, type, NULL) : NULL;
  if (t == NULL)
    return fail(kit, JOBHOST_ECONFIG,
                "no plugin added to the kit provides task type %s",
                type != NULL ? type : "(none)");
  rc = write_files(kit, t, key, pipeline, sizeof(pipeline));
  if (rc == 0)
    rc = load(kit, pipeline, &p);
  if (rc != 0)
    return rc;
  /* a run sees only its own tables */
  (void)jh_dir_each(kit->home.folders[JOBHOST_FOLDER_EXPORT_OUTPUT],
                    remove_entry, NULL);
  kit->runs++;
  snprintf(work, sizeof(work), "%s/%s-%u",
           kit->home.folders[JOBHOST_FOLDER_TASK_WORK], KIT_TASK, kit->runs);
  snprintf(logp, sizeof(logp), "%s/%s-%u.log",
           kit->home.folders[JOBHOST_FOLDER_JOB_LOGS], KIT_TASK, kit->runs);
  kit->outcome.log_path = logp;
  kit->outcome.task_id = KIT_TASK;

  memset(&env, 0, sizeof(env));
  env.def = &p->tasks[0];
  env.pipeline = p;
  env.home = &kit->home;
  env.work_dir = work;
  env.task_instance = kit->runs;
  env.fd = -1;
  env.outcome = &kit->outcome;
  env.cancelled = &cancelled;
  rc = jh_task_execute(&env);

  jh_outcome_close_log(&kit->outcome);
  kit->outcome.log_path = NULL;
  (void)jh_remove_tree(work);
  jh_pipeline_free(p);
  if (read_log(kit, logp) != 0 ||
      jh_dir_each(kit->home.folders[JOBHOST_FOLDER_EXPORT_OUTPUT],
                  collect_table, kit) != 0 ||
      read_cookie(kit) != 0)
    fail(kit, 0, "the kit could not read back all the run did");
  if (kit->ntables > 1)
    qsort(kit->tables, kit->ntables, sizeof(*kit->tables), by_name);
  return rc;
}

int jobhost_testkit_run(jobhost_testkit *kit, const char *task_type) {
  return run_task(kit, task_type, NULL);
}

int jobhost_testkit_validate(jobhost_testkit *kit, const char *task_type) {
  const jobhost_task_type *t;
  char pipeline[PATH_MAX + 16];
  jh_pipeline *p = NULL;
  int rc;

  kit->error[0] = '\0';
  t = task_type != NULL ? jh_registry_task_type(&kit->reg, task_type, NULL)
                        : NULL;
  if (t == NULL)
    return fail(kit, JOBHOST_ECONFIG,
                "no plugin added to the kit provides task type %s",
                task_type != NULL ? task_type : "(none)");
  rc = write_files(kit, t, NULL, pipeline, sizeof(pipeline));
  if (rc == 0)
    rc = load(kit, pipeline, &p);
  jh_pipeline_free(p);
  return rc;
}

int jobhost_testkit_export(jobhost_testkit *kit, const char *package) {
  int rc = jobhost_testkit_package(kit, package);
  return rc != 0 ? rc : run_task(kit, "ExportTask", NULL);
}

/* ---- fulfill ---- */

/* The orders, numbered and given the kit's resource type where the test
 * left that out, as one order file for FulfillTask. */
static int write_orders(jobhost_testkit *kit, const char *orders_json,
                        size_t *n) {
  char dir[PATH_MAX], name[64], path[PATH_MAX + 80], err[1024];
  json_error_t je;
  json_t *orders = json_loads(orders_json != NULL ? orders_json : "",
                              JSON_REJECT_DUPLICATES, &je);
  size_t i;
  json_t *o;
  int rc;

  if (!json_is_array(orders) || json_array_size(orders) == 0) {
    json_decref(orders);
    return fail(kit, -EINVAL,
                "orders: a JSON array of at least one order is expected "
                "(%d:%d: %s)",
                je.line, je.column, orders == NULL ? je.text : "not one");
  }
  json_array_foreach(orders, i, o) {
    char id[32];
    json_t *have = json_object_get(o, "AssignedResourceTypeId");
    if (!json_is_object(o))
      break;
    snprintf(id, sizeof(id), "order-%zu", i + 1);
    if (have == NULL)
      json_object_set_new(o, "AssignedResourceTypeId", json_string(id));
    else if (json_is_string(have) &&
             strspn(json_string_value(have), "0123456789") ==
                 strlen(json_string_value(have))) {
      json_decref(orders);
      return fail(kit, -EINVAL,
                  "order %zu: a numeric AssignedResourceTypeId names an "
                  "assignment of the identity store; leave it out",
                  i + 1);
    }
    if (json_object_get(o, "ResourceType") == NULL)
      json_object_set_new(o, "ResourceType",
                          json_pack("{s:s}", "Identifier", KIT_RESOURCE_TYPE));
  }
  snprintf(dir, sizeof(dir), "%s/%s",
           kit->home.folders[JOBHOST_FOLDER_PROVISIONING_ORDERS],
           KIT_RESOURCE_TYPE);
  (void)jh_remove_tree(dir);
  if (mkdir(dir, 0750) != 0) {
    json_decref(orders);
    return fail(kit, -errno, "%s: %s", dir, strerror(errno));
  }
  rc = jh_order_file_name(name, sizeof(name), 0, kit->runs + 1, 1);
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  if (rc == 0)
    rc = jh_order_file_write(path, orders, err, sizeof(err));
  *n = json_array_size(orders);
  json_decref(orders);
  return rc != 0 ? fail(kit, rc, "orders: %s", err) : 0;
}

static int result_file(const char *path, const char *name, void *arg) {
  size_t n = strlen(name), suffix = strlen(".result.csv");
  char **found = arg;
  if (n > suffix && strcmp(name + n - suffix, ".result.csv") == 0 &&
      *found == NULL)
    *found = strdup(path);
  return 0;
}

static int read_results(jobhost_testkit *kit, size_t n) {
  char dir[PATH_MAX];
  char *path = NULL;
  kit_table t;
  int rc;

  snprintf(dir, sizeof(dir), "%s/%s/Completed",
           kit->home.folders[JOBHOST_FOLDER_PROVISIONING_ORDERS],
           KIT_RESOURCE_TYPE);
  (void)jh_dir_each(dir, result_file, &path);
  if (path == NULL)
    return 0; /* no order has a result */
  memset(&t, 0, sizeof(t));
  rc = read_table(&t, path);
  free(path);
  kit->orders = calloc(n, sizeof(*kit->orders));
  if (kit->orders == NULL)
    rc = -ENOMEM;
  for (size_t r = 0; rc == 0 && r < t.nrows && r < n && t.ncolumns >= 3; r++) {
    kit->orders[r].executed = strcmp(t.rows[r][1], "Executed") == 0;
    kit->orders[r].message = strdup(t.rows[r][2]);
    kit->norders = r + 1;
  }
  for (size_t r = 0; r < t.nrows; r++) {
    for (size_t c = 0; c < t.ncolumns; c++)
      free(t.rows[r][c]);
    free(t.rows[r]);
  }
  for (size_t c = 0; c < t.ncolumns; c++)
    free(t.columns[c]);
  free(t.rows);
  free(t.columns);
  return rc;
}

int jobhost_testkit_fulfill(jobhost_testkit *kit, const char *package,
                            const char *key, const char *orders_json) {
  size_t n = 0;
  int rc = jobhost_testkit_package(kit, package);
  if (rc == 0) {
    last_run_clear(kit);
    rc = write_orders(kit, orders_json, &n);
  }
  if (rc != 0)
    return rc;
  rc = run_task(kit, "FulfillTask", key != NULL ? key : "id");
  if (read_results(kit, n) != 0)
    fail(kit, 0, "the kit could not read the orders' results");
  return rc;
}

/* ---- what the run did ---- */

const char *jobhost_testkit_message(const jobhost_testkit *kit) {
  return kit->outcome.message != NULL ? kit->outcome.message : "";
}

int jobhost_testkit_produced_output(const jobhost_testkit *kit) {
  return kit->outcome.produced_output;
}

int jobhost_testkit_counter(const jobhost_testkit *kit, const char *name,
                            int64_t *value) {
  for (size_t i = 0; name != NULL && i < kit->outcome.ncounters; i++)
    if (strcmp(kit->outcome.counters[i].name, name) == 0) {
      if (value != NULL)
        *value = kit->outcome.counters[i].value;
      return 0;
    }
  return -ENOENT;
}

void jobhost_testkit_progress(const jobhost_testkit *kit, uint64_t *done,
                              uint64_t *total) {
  if (done != NULL)
    *done = kit->outcome.progress_done;
  if (total != NULL)
    *total = kit->outcome.progress_total;
}

size_t jobhost_testkit_log_count(const jobhost_testkit *kit) {
  return kit->nlog;
}

const char *jobhost_testkit_log_line(const jobhost_testkit *kit, size_t i) {
  return i < kit->nlog ? kit->log[i] : NULL;
}

const char *jobhost_testkit_log_find(const jobhost_testkit *kit,
                                     const char *text) {
  for (size_t i = 0; text != NULL && i < kit->nlog; i++)
    if (strstr(kit->log[i], text) != NULL)
      return kit->log[i];
  return NULL;
}

size_t jobhost_testkit_table_count(const jobhost_testkit *kit) {
  return kit->ntables;
}

const char *jobhost_testkit_table_name(const jobhost_testkit *kit, size_t i) {
  return i < kit->ntables ? kit->tables[i].name : NULL;
}

static const kit_table *table_of(const jobhost_testkit *kit, const char *name) {
  for (size_t i = 0; name != NULL && i < kit->ntables; i++)
    if (strcmp(kit->tables[i].name, name) == 0)
      return &kit->tables[i];
  return NULL;
}

size_t jobhost_testkit_columns(const jobhost_testkit *kit, const char *table,
                               const char *const **columns) {
  const kit_table *t = table_of(kit, table);
  if (columns != NULL)
    *columns = t != NULL ? (const char *const *)t->columns : NULL;
  return t != NULL ? t->ncolumns : 0;
}

size_t jobhost_testkit_rows(const jobhost_testkit *kit, const char *table) {
  const kit_table *t = table_of(kit, table);
  return t != NULL ? t->nrows : 0;
}

const char *jobhost_testkit_cell(const jobhost_testkit *kit, const char *table,
                                 size_t row, const char *column) {
  const kit_table *t = table_of(kit, table);
  if (t == NULL || row >= t->nrows || column == NULL)
    return NULL;
  for (size_t c = 0; c < t->ncolumns; c++)
    if (strcmp(t->columns[c], column) == 0)
      return t->rows[row][c];
  return NULL;
}

const void *jobhost_testkit_cookie_saved(const jobhost_testkit *kit,
                                         size_t *size) {
  if (size != NULL)
    *size = kit->has_cookie ? kit->cookie_len : 0;
  return kit->has_cookie ? kit->cookie : NULL;
}

size_t jobhost_testkit_order_count(const jobhost_testkit *kit) {
  return kit->norders;
}

int jobhost_testkit_order_result(const jobhost_testkit *kit, size_t i,
                                 const char **message) {
  if (i >= kit->norders)
    return -ENOENT;
  if (message != NULL)
    *message = kit->orders[i].message ? kit->orders[i].message : "";
  return kit->orders[i].executed ? 0 : -1;
}

const char *jobhost_testkit_dir(const jobhost_testkit *kit) { return kit->dir; }

const char *jobhost_testkit_folder(const jobhost_testkit *kit,
                                   jobhost_folder which) {
  if ((int)which < 0 || which > JOBHOST_FOLDER_TASK_WORK)
    return NULL;
  return kit->home.folders[which];
}
