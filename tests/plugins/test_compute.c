/*
 * test_compute.c — the compute plugin's four tasks against a stand-in
 * host (tests/harness_services.h), an identity store in a temporary
 * folder and a model built here: computed values and the dirty bits they
 * consume and set; correlation keys; the role model's assignments (added,
 * correlated and verified, modified, awaiting approval, orphans, owners
 * gone, history); the orders written (compared as JSON), thresholds that
 * block with nothing written, force, no output without orders; rules
 * that fail, loop or allocate without bound end the task with an error
 * naming the rule.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "atomic_file.h"
#include "db.h"
#include "harness.h"
#include "harness_services.h"
#include "idstore.h"
#include "model.h"
#include "order_file.h"
#include "provstore.h"

extern const jobhost_plugin jobhost_plugin_descriptor;

#define S(x) ((char *)(x))

/* ---- the model ---- */

static jh_property hr_props[] = {
    {S("employee_id"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("first_name"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("last_name"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("nickname"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("display_name"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("contract_type"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("mail"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("manager"), JH_PROP_LINK, S("HR_Person"), {NULL, 0, 0}},
};
static jh_property ad_props[] = {
    {S("dn"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("cn"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("employeeID"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("mail"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("displayName"), JH_PROP_STRING, NULL, {NULL, 0, 0}},
    {S("manager"), JH_PROP_LINK, S("AD_Entry"), {NULL, 0, 0}},
    {S("memberOf"), JH_PROP_LINKS, S("AD_Entry"), {NULL, 0, 0}},
};

static jh_entity_type types[] = {
    {S("HR_Person"), NULL, hr_props, 8, {NULL, 0, 0}},
    {S("AD_Entry"), NULL, ad_props, 7, {NULL, 0, 0}},
};

static jh_mapped_property hr_map[] = {
    {S("employee_id"), S("id"), 1, 0, NULL, {NULL, 0, 0}}};
static jh_mapped_property ad_map[] = {
    {S("dn"), S("dn"), 1, 0, NULL, {NULL, 0, 0}}};

static jh_entity_mapping mappings[] = {
    {.entity_type = S("HR_Person"),
     .connector = S("HR"),
     .connection_table = S("hr"),
     .properties = hr_map,
     .nproperties = 1},
    {.entity_type = S("AD_Entry"),
     .connector = S("AD"),
     .connection_table = S("ad"),
     .properties = ad_map,
     .nproperties = 1},
};

static jh_association_mapping associations[] = {
    {.id = S("AD_memberOf"),
     .connector = S("AD"),
     .connection_table = S("ad_member"),
     .entity_type = S("AD_Entry"),
     .property = S("memberOf"),
     .column1 = S("dn"),
     .column2 = S("member_dn"),
     .key1 = S("dn"),
     .key2 = S("dn")},
};

#define LOC(l)                                                                 \
  { "model.yaml", (l), 5 }
#define RULE(b, e, l)                                                          \
  { .binding = (b), .expression = (e), .loc = LOC(l) }

static jh_property_expression expressions[] = {
    {.id = S("HR_DisplayName"),
     .entity_type = S("HR_Person"),
     .property = S("display_name"),
     .value = RULE(NULL, S("lua:p:return p.last_name .. ' ' .. p.first_name"),
                   10),
     .loc = LOC(9)},
    {.id = S("HR_DisplayName_Nick"),
     .entity_type = S("HR_Person"),
     .property = S("display_name"),
     .value = RULE(S("nickname"), NULL, 13),
     .priority = 5,
     .loc = LOC(12)},
};

static jh_value_rule type_rules[] = {
    RULE(NULL, S("lua:p:return p.contract_type ~= 'External'"), 20)};

static jh_scalar_rule scalar_rules[] = {
    {.property = S("cn"), .value = RULE(S("display_name"), NULL, 22)},
    {.property = S("employeeID"), .value = RULE(S("employee_id"), NULL, 23)},
    {.property = S("mail"), .value = RULE(S("mail"), NULL, 24)},
};

static jh_navigation_rule navigation_rules[] = {
    {.property = S("manager"), .value = RULE(S("manager"), NULL, 26)},
    {.property = S("memberOf"), .resource = S("CN=All"), .loc = LOC(27)},
};

static jh_correlation_rule correlation_rules[] = {
    {.source = RULE(S("employee_id"), NULL, 29),
     .target = RULE(S("employeeID"), NULL, 29),
     .confidence = 100,
     .loc = LOC(29)},
};

static jh_resource_type resource_types[2];

static jh_model model = {
    .entity_types = types,
    .nentity_types = 2,
    .mappings = mappings,
    .nmappings = 2,
    .associations = associations,
    .nassociations = 1,
    .expressions = expressions,
    .nexpressions = 2,
    .resource_types = resource_types,
    .nresource_types = 1,
};

/* The resource type as each test starts with it: nothing blocks, no
 * count threshold, the percentages at their default. */
static void reset_model(void) {
  jh_resource_type *rt = &resource_types[0];
  memset(rt, 0, sizeof(*rt));
  rt->id = S("AD_User");
  rt->source_entity_type = S("HR_Person");
  rt->target_entity_type = S("AD_Entry");
  rt->allow_add = rt->allow_remove = 1;
  for (int k = 0; k < JH_PTH_COUNT; k++)
    rt->thresholds[k] = JH_THRESHOLD_UNSET;
  rt->type_rules = type_rules;
  rt->ntype_rules = 1;
  rt->scalar_rules = scalar_rules;
  rt->nscalar_rules = 3;
  rt->navigation_rules = navigation_rules;
  rt->nnavigation_rules = 2;
  rt->correlation_rules = correlation_rules;
  rt->ncorrelation_rules = 1;
  model.nresource_types = 1;
  type_rules[0].expression = S("lua:p:return p.contract_type ~= 'External'");
  expressions[0].value.expression = S(
      "lua:p:return p.last_name .. ' ' .. p.first_name");
  correlation_rules[0].confidence = 100;
}

/* ---- the store ---- */

typedef struct fx {
  char dir[PATH_MAX];
  char store[PATH_MAX];
  char orders[PATH_MAX];
  char work[PATH_MAX];
  jh_fake_host host;
} fx;

static int setup(void **state) {
  fx *f = jh_test_fixture(sizeof(fx), PATH_MAX);
  jh_test_path(f->store, sizeof(f->store), "%s/identity.db", f->dir);
  jh_test_path(f->orders, sizeof(f->orders), "%s/ProvisioningOrders", f->dir);
  jh_test_path(f->work, sizeof(f->work), "%s/work", f->dir);
  jh_test_mkdir(f->orders);
  jh_test_mkdir(f->work);
  jh_fake_host_init(&f->host);
  reset_model();
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  jh_fake_host_clear(&f->host);
  return jh_test_teardown_fixture(state);
}

static jh_idstore *open_store(fx *f) {
  char err[512];
  jh_idstore *s;
  if (jh_idstore_open(f->store, &s, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  return s;
}

static int64_t et_num(jh_idstore *s, const char *name, const char *connector) {
  char err[512];
  int64_t id;
  assert_int_equal(
      jh_idstore_entity_type(s, name, connector, &id, err, sizeof(err)), 0);
  return id;
}

/* Put resource key of et with the (name, value) pairs of kv (NULL
 * terminated) and the dirty bits. */
static void put_resource(fx *f, const char *et, const char *key,
                         const char *const *kv, int dirty) {
  jh_idstore *s = open_store(f);
  jh_idstore_value vals[16], sorted[16];
  uint32_t props[16];
  size_t order[16], n = 0, cap = 0, len;
  char *buf = NULL, err[512];
  sqlite3_stmt *st;
  sqlite3 *db = jh_db_sqlite(jh_idstore_db(s));

  for (; kv[2 * n] != NULL; n++) {
    assert_int_equal(
        jh_idstore_property(s, kv[2 * n], &props[n], err, sizeof(err)), 0);
    vals[n].prop = props[n];
    vals[n].value = kv[2 * n + 1];
    vals[n].length = strlen(kv[2 * n + 1]);
  }
  jh_idstore_sort_props(props, n, order);
  for (size_t i = 0; i < n; i++)
    sorted[i] = vals[order[i]];
  len = jh_idstore_encode(sorted, n, &buf, &cap);
  assert_int_equal(
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO resources(entity_type, key, "
                         "data, dirty) VALUES (?, ?, ?, ?)",
                         -1, &st, NULL),
      SQLITE_OK);
  sqlite3_bind_int64(st, 1,
                     et_num(s, et, strcmp(et, "HR_Person") ? "AD" : "HR"));
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, buf, (int)len, SQLITE_STATIC);
  sqlite3_bind_int(st, 4, dirty);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  free(buf);
  jh_idstore_close(s);
}

static void sql(fx *f, const char *text) {
  jh_idstore *s = open_store(f);
  char err[512];
  if (jh_idstore_exec(s, text, err, sizeof(err)) != 0)
    fail_msg("%s: %s", text, err);
  jh_idstore_close(s);
}

/* The first column of the first row of a query, as an integer. */
static long long sql_int(fx *f, const char *text) {
  jh_idstore *s = open_store(f);
  sqlite3 *db = jh_db_sqlite(jh_idstore_db(s));
  sqlite3_stmt *st;
  long long v = -1;
  assert_int_equal(sqlite3_prepare_v2(db, text, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  jh_idstore_close(s);
  return v;
}

/* A resource's dirty flags: those of its row and of its computed
 * values together. */
static long long dirty_of(fx *f, const char *key) {
  char q[256];
  jh_test_path(q, sizeof(q),
               "SELECT r.dirty | coalesce(c.dirty, 0) FROM resources r "
               "LEFT JOIN computed c USING (entity_type, key) "
               "WHERE r.key = '%s'",
               key);
  return sql_int(f, q);
}

/* Every resource's flags cleared. */
static void clear_flags(fx *f) {
  sql(f, "UPDATE resources SET dirty = 0");
  sql(f, "UPDATE computed SET dirty = 0");
}

static void hr_person(fx *f, const char *id, const char *first,
                      const char *last, const char *manager, int dirty) {
  char display[128], mail[128];
  const char *kv[16];
  size_t n = 0;
  snprintf(display, sizeof(display), "%s %s", last, first);
  snprintf(mail, sizeof(mail), "%s@acme.example", first);
  kv[n++] = "employee_id";
  kv[n++] = id;
  kv[n++] = "first_name";
  kv[n++] = first;
  kv[n++] = "last_name";
  kv[n++] = last;
  kv[n++] = "display_name";
  kv[n++] = display;
  kv[n++] = "mail";
  kv[n++] = mail;
  if (manager != NULL) {
    kv[n++] = "manager";
    kv[n++] = manager;
  }
  kv[n] = NULL;
  put_resource(f, "HR_Person", id, kv, dirty);
}

/* The directory account of person id, as the role model would make it. */
static void ad_entry(fx *f, const char *id, const char *cn, const char *mail) {
  char dn[128];
  const char *kv[] = {"dn", dn, "cn", cn, "employeeID", id, "mail", mail, NULL};
  snprintf(dn, sizeof(dn), "CN=%s", cn);
  put_resource(f, "AD_Entry", dn, kv, 0);
}

static void member_of(fx *f, const char *dn, const char *group) {
  char q[512];
  jh_test_path(q, sizeof(q),
               "INSERT INTO links(association, value1, value2, connector) "
               "VALUES ('AD_memberOf', '%s', '%s', 'AD')",
               dn, group);
  sql(f, q);
}

/* ---- running a task ---- */

static const jobhost_task_type *task_type(const char *name) {
  for (const jobhost_task_type *t = jobhost_plugin_descriptor.task_types;
       t->name != NULL; t++)
    if (strcmp(t->name, name) == 0)
      return t;
  fail_msg("no task type %s", name);
  return NULL;
}

/* Run task type `type` with the parameters set on f->host. */
static int run_force(fx *f, const char *type, int force) {
  jobhost_ctx ctx;
  jh_fake_host_reset(&f->host);
  f->host.type = task_type(type);
  f->host.strict_params = 1;
  f->host.model = &model;
  f->host.idstore = f->store;
  f->host.folders[JOBHOST_FOLDER_PROVISIONING_ORDERS] = f->orders;
  f->host.folders[JOBHOST_FOLDER_TASK_WORK] = f->work;
  ctx = jh_fake_ctx(&f->host, "task", type);
  ctx.task_instance = 42;
  ctx.force = force;
  return f->host.type->run(&ctx);
}

static int run(fx *f, const char *type) { return run_force(f, type, 0); }

static void run_ok(fx *f, const char *type) {
  int rc = run(f, type);
  if (rc != 0)
    fail_msg("%s: %d: %s", type, rc, f->host.message);
}

static const char *const hr_only[] = {"HR_Person", NULL};
static const char *const both[] = {"HR_Person", "AD_Entry", NULL};
static const char *const ad_user[] = {"AD_User", NULL};

/* Expressions, correlation keys and the role model over both entity
 * types. */
static void compute_all(fx *f) {
  jh_fake_put_list(&f->host, "entity_types", both);
  run_ok(f, "UpdateEntityPropertyExpressionsTask");
  run_ok(f, "ComputeCorrelationKeysTask");
  jh_fake_put_list(&f->host, "entity_types", hr_only);
  run_ok(f, "ComputeRoleModelTask");
}

/* ---- reading assignments ---- */

typedef struct asg {
  long long id;
  char owner[64], target[64];
  int change, state, confidence;
  char vals[1024]; /* "name=policy/observed@state " each */
} asg;

typedef struct asgs {
  asg a[16];
  size_t n;
  sqlite3 *db;
} asgs;

static void prop_name(sqlite3 *db, uint32_t id, char *buf, size_t size) {
  sqlite3_stmt *st;
  assert_int_equal(
      sqlite3_prepare_v2(db, "SELECT name FROM properties WHERE id = ?", -1,
                         &st, NULL),
      SQLITE_OK);
  sqlite3_bind_int64(st, 1, id);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
}

static int keep_val(void *ud, const jh_prov_val *v) {
  asgs *all = ud;
  asg *a = &all->a[all->n];
  char name[64], one[256];
  prop_name(all->db, v->prop, name, sizeof(name));
  snprintf(one, sizeof(one), "%s=%.*s/%.*s@%d ", name,
           v->has_policy ? (int)v->policy_len : 0,
           v->has_policy ? v->policy : "",
           v->has_observed ? (int)v->observed_len : 0,
           v->has_observed ? v->observed : "", v->state);
  strncat(a->vals, one, sizeof(a->vals) - strlen(a->vals) - 1);
  return 0;
}

static int keep_asg(void *ud, const jh_prov_assignment *p) {
  asgs *all = ud;
  asg *a = &all->a[all->n];
  assert_true(all->n < 16);
  memset(a, 0, sizeof(*a));
  a->id = p->id;
  snprintf(a->owner, sizeof(a->owner), "%s", p->owner_key ? p->owner_key : "-");
  snprintf(a->target, sizeof(a->target), "%s",
           p->target_key ? p->target_key : "-");
  a->change = p->change_type;
  a->state = p->state;
  a->confidence = p->confidence;
  assert_int_equal(jh_prov_vals_decode(p->vals, p->vals_len, keep_val, all), 0);
  all->n++;
  return 0;
}

static void read_rt_asgs(fx *f, const char *rt, asgs *all) {
  jh_idstore *s = open_store(f);
  char err[512];
  memset(all, 0, sizeof(*all));
  all->db = jh_db_sqlite(jh_idstore_db(s));
  if (jh_prov_assignments(s, rt, keep_asg, all, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  jh_idstore_close(s);
}

static void read_asgs(fx *f, asgs *all) { read_rt_asgs(f, "AD_User", all); }

static const asg *asg_of(const asgs *all, const char *owner) {
  for (size_t i = 0; i < all->n; i++)
    if (strcmp(all->a[i].owner, owner) == 0)
      return &all->a[i];
  fail_msg("no assignment of %s", owner);
  return NULL;
}

static void assert_has(const char *text, const char *part) {
  if (strstr(text, part) == NULL)
    fail_msg("\"%s\" does not hold \"%s\"", text, part);
}

/* ---- UpdateEntityPropertyExpressionsTask ---- */

static int find_prop(void *arg, uint32_t prop, const char *value, size_t vlen) {
  char **want = arg; /* want[0]: the number as text; want[1]: out */
  if ((uint32_t)atol(want[0]) == prop)
    snprintf(want[1], 128, "%.*s", (int)vlen, value);
  return 0;
}

/* The computed value of prop on HR_Person key ("" when none). */
static void computed(fx *f, const char *key, const char *prop, char out[128]) {
  jh_idstore *s = open_store(f);
  jh_prov_resource r;
  char err[512], num[32];
  char *want[2] = {num, out};
  uint32_t id;
  out[0] = '\0';
  assert_int_equal(jh_idstore_property(s, prop, &id, err, sizeof(err)), 0);
  snprintf(num, sizeof(num), "%u", id);
  assert_int_equal(jh_prov_get(s, et_num(s, "HR_Person", "HR"), key,
                               strlen(key), &r, err, sizeof(err)),
                   1);
  assert_int_equal(
      jh_idstore_decode(r.computed, r.computed_len, find_prop, want), 0);
  jh_idstore_close(s);
}

static void eve(fx *f, int dirty) {
  const char *kv[] = {"employee_id", "008",       "first_name",
                      "Eve",         "last_name", "Moneypenny",
                      "nickname",    "Penny",     NULL};
  put_resource(f, "HR_Person", "008", kv, dirty);
}

static void test_expressions(void **state) {
  fx *f = *state;
  char v[128];
  hr_person(f, "007", "James", "Bond", NULL, 0);
  eve(f, 0);
  jh_fake_put_list(&f->host, "entity_types", hr_only);
  run_ok(f, "UpdateEntityPropertyExpressionsTask");
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 2);
  assert_int_equal(jh_fake_counter(&f->host, "changed"), 2);
  computed(f, "007", "display_name", v);
  assert_string_equal(v, "Bond James");
  computed(f, "008", "display_name", v); /* priority 5 gives a value */
  assert_string_equal(v, "Penny");
  assert_int_equal(dirty_of(f, "007"),
                   JH_DIRTY_CORRELATION | JH_DIRTY_ROLE_MODEL);

  /* Nothing changed: nothing written, nothing flagged. */
  clear_flags(f);
  run_ok(f, "UpdateEntityPropertyExpressionsTask");
  assert_int_equal(jh_fake_counter(&f->host, "changed"), 0);
  assert_int_equal(dirty_of(f, "007"), 0);
}

static void test_expressions_dirty(void **state) {
  fx *f = *state;
  char v[128];
  hr_person(f, "007", "James", "Bond", NULL, JH_DIRTY_ALL);
  eve(f, 0);
  jh_fake_put_list(&f->host, "entity_types", hr_only);
  jh_fake_put(&f->host.params, "dirty", "true");
  run_ok(f, "UpdateEntityPropertyExpressionsTask");
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 1);
  /* its own bit consumed, the others kept */
  assert_int_equal(dirty_of(f, "007"),
                   JH_DIRTY_CORRELATION | JH_DIRTY_ROLE_MODEL);
  assert_int_equal(dirty_of(f, "008"), 0);
  computed(f, "008", "display_name", v);
  assert_string_equal(v, "");
  run_ok(f, "UpdateEntityPropertyExpressionsTask");
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 0);
}

/* ---- ComputeCorrelationKeysTask ---- */

static int keep_key(void *ud, const char *key, size_t len) {
  snprintf(ud, 128, "%.*s", (int)len, key);
  return 0;
}

static void find_key(fx *f, int side, const char *value, char out[128]) {
  jh_idstore *s = open_store(f);
  char err[512];
  out[0] = '\0';
  assert_int_equal(jh_prov_corrkey_find(s, "AD_User", 0, side, value,
                                        strlen(value), keep_key, out, err,
                                        sizeof(err)),
                   0);
  jh_idstore_close(s);
}

static void test_correlation(void **state) {
  fx *f = *state;
  char k[128];
  hr_person(f, "007", "James", "Bond", NULL, JH_DIRTY_ALL);
  ad_entry(f, "007", "Bond James", "James@acme.example");
  jh_fake_put_list(&f->host, "entity_types", both);
  run_ok(f, "ComputeCorrelationKeysTask");
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 2);
  assert_int_equal(jh_fake_counter(&f->host, "changed"), 2);
  find_key(f, JH_CORR_TARGET, "007", k);
  assert_string_equal(k, "CN=Bond James");
  find_key(f, JH_CORR_SOURCE, "007", k);
  assert_string_equal(k, "007");
  run_ok(f, "ComputeCorrelationKeysTask");
  assert_int_equal(jh_fake_counter(&f->host, "changed"), 0);

  /* dirty: only the flagged resource, its bit cleared */
  jh_fake_put(&f->host.params, "dirty", "true");
  run_ok(f, "ComputeCorrelationKeysTask");
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 1);
  assert_int_equal(dirty_of(f, "007"),
                   JH_DIRTY_EXPRESSIONS | JH_DIRTY_ROLE_MODEL);
}

/* ---- ComputeRoleModelTask ---- */

static void external(fx *f) {
  const char *kv[] = {"employee_id",   "009",       "first_name",
                      "Ext",           "last_name", "Tern",
                      "contract_type", "External",  NULL};
  put_resource(f, "HR_Person", "009", kv, 0);
}

static void test_role_model_added(void **state) {
  fx *f = *state;
  asgs all;
  const asg *a;
  hr_person(f, "007", "James", "Bond", NULL, 0);
  hr_person(f, "008", "Eve", "Moneypenny", "007", 0);
  external(f);
  /* one transaction per resource, committed while the scan goes on */
  jh_fake_put(&f->host.params, "batch_update_size", "1");
  jh_fake_put(&f->host.params, "batch_size", "1");
  jh_fake_put(&f->host.params, "batch_insert_size", "1");
  compute_all(f);
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 3);
  assert_int_equal(jh_fake_counter(&f->host, "added"), 2);
  /* 008's manager has no account yet: that value waits */
  assert_int_equal(jh_fake_counter(&f->host, "waiting"), 1);
  read_asgs(f, &all);
  assert_int_equal(all.n, 2); /* the external has none */
  a = asg_of(&all, "007");
  assert_int_equal(a->change, JH_CHANGE_ADDED);
  assert_int_equal(a->state, JH_PROV_PENDING);
  assert_string_equal(a->target, "-");
  assert_has(a->vals, "cn=Bond James/@1 ");
  assert_has(a->vals, "employeeID=007/@1 ");
  assert_has(a->vals, "memberOf=CN=All/@1 ");
  a = asg_of(&all, "008");
  assert_null(strstr(a->vals, "manager="));

  /* A second run changes nothing. */
  run_ok(f, "ComputeRoleModelTask");
  assert_int_equal(jh_fake_counter(&f->host, "added"), 0);
  assert_int_equal(jh_fake_counter(&f->host, "unchanged"), 2);
}

/* 007's account matches the policy; 008's has another mail. */
static void two_accounts(fx *f) {
  hr_person(f, "007", "James", "Bond", NULL, 0);
  hr_person(f, "008", "Eve", "Moneypenny", "007", 0);
  ad_entry(f, "007", "Bond James", "James@acme.example");
  ad_entry(f, "008", "Moneypenny Eve", "old@acme.example");
  member_of(f, "CN=Bond James", "CN=All");
  member_of(f, "CN=Moneypenny Eve", "CN=All");
}

static void test_role_model_correlated(void **state) {
  fx *f = *state;
  asgs all;
  const asg *a;
  two_accounts(f);
  compute_all(f);
  assert_int_equal(jh_fake_counter(&f->host, "added"), 0);
  assert_int_equal(jh_fake_counter(&f->host, "verified"), 1);
  assert_int_equal(jh_fake_counter(&f->host, "modified"), 1);
  read_asgs(f, &all);
  a = asg_of(&all, "007");
  assert_string_equal(a->target, "CN=Bond James");
  assert_int_equal(a->change, JH_CHANGE_NONE);
  assert_int_equal(a->state, JH_PROV_VERIFIED);
  assert_int_equal(a->confidence, 100);
  a = asg_of(&all, "008");
  assert_int_equal(a->change, JH_CHANGE_MODIFIED);
  assert_int_equal(a->state, JH_PROV_PENDING);
  assert_has(a->vals, "mail=Eve@acme.example/old@acme.example@1 ");
  assert_has(a->vals, "cn=Moneypenny Eve/Moneypenny Eve@4 ");
  /* the manager's account is known now: 008's manager value is added */
  run_ok(f, "ComputeRoleModelTask");
  read_asgs(f, &all);
  assert_has(asg_of(&all, "008")->vals, "manager=CN=Bond James/@1 ");
}

/* 008's account already has its manager, whose own account is only
 * correlated in the same run: the manager waits, and the account's
 * manager is left as it is (no Remove). */
/* A navigation to an owner's account: found when the owner was matched
 * with its account earlier in the run (owners are read in key order),
 * else it waits for the next run. */
static void test_role_model_manager_waits(void **state) {
  fx *f = *state;
  const char *kv[] = {"dn",         "CN=Moneypenny Eve",
                      "cn",         "Moneypenny Eve",
                      "employeeID", "008",
                      "mail",       "Eve@acme.example",
                      "manager",    "CN=Bond James",
                      NULL};
  asgs all;
  const asg *a;
  hr_person(f, "006", "Bill", "Tanner", "007", 0);
  hr_person(f, "007", "James", "Bond", NULL, 0);
  hr_person(f, "008", "Eve", "Moneypenny", "007", 0);
  ad_entry(f, "007", "Bond James", "James@acme.example");
  put_resource(f, "AD_Entry", "CN=Moneypenny Eve", kv, 0);
  member_of(f, "CN=Bond James", "CN=All");
  member_of(f, "CN=Moneypenny Eve", "CN=All");
  compute_all(f);
  /* 006 is read before 007 is matched: its manager waits */
  assert_int_equal(jh_fake_counter(&f->host, "waiting"), 1);
  assert_int_equal(jh_fake_counter(&f->host, "verified"), 2);
  read_asgs(f, &all);
  a = asg_of(&all, "008");
  assert_int_equal(a->state, JH_PROV_VERIFIED);
  assert_has(a->vals, "manager=CN=Bond James/CN=Bond James@4 ");
  a = asg_of(&all, "006");
  assert_null(strstr(a->vals, "manager="));
  run_ok(f, "ComputeRoleModelTask");
  read_asgs(f, &all);
  a = asg_of(&all, "006");
  assert_has(a->vals, "manager=CN=Bond James/@1");
}

static void test_role_model_blocked(void **state) {
  fx *f = *state;
  asgs all;
  two_accounts(f);
  hr_person(f, "010", "Bill", "Tanner", NULL, 0);
  correlation_rules[0].confidence = 80;
  compute_all(f);
  read_asgs(f, &all);
  /* values equal: verified whatever the confidence */
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_VERIFIED);
  assert_int_equal(asg_of(&all, "008")->state, JH_PROV_AWAITING_APPROVAL);
  assert_int_equal(asg_of(&all, "008")->confidence, 80);
  assert_int_equal(asg_of(&all, "010")->state, JH_PROV_PENDING);
  assert_int_equal(jh_fake_counter(&f->host, "awaiting_approval"), 1);

  /* The resource type blocks: the new owner's Added waits too. */
  resource_types[0].block_provisioning = 1;
  hr_person(f, "011", "Miss", "Taylor", NULL, 0);
  run_ok(f, "ComputeRoleModelTask");
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "011")->change, JH_CHANGE_ADDED);
  assert_int_equal(asg_of(&all, "011")->state, JH_PROV_AWAITING_APPROVAL);
}

static void review(fx *f, long long id, int approve) {
  jh_idstore *s = open_store(f);
  char err[512];
  int64_t ids[1] = {id};
  int rc = approve ? jh_prov_approve(s, ids, 1, err, sizeof(err))
                   : jh_prov_decline(s, ids, 1, err, sizeof(err));
  if (rc != 0)
    fail_msg("%s", err);
  jh_idstore_close(s);
}

/* Review: an approved order is not blocked again; a declined one is left
 * alone until the policy's values change. */
static void test_role_model_review(void **state) {
  fx *f = *state;
  asgs all;
  hr_person(f, "007", "James", "Bond", NULL, 0);
  hr_person(f, "008", "Eve", "Moneypenny", NULL, 0);
  resource_types[0].block_provisioning = 1;
  compute_all(f);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_AWAITING_APPROVAL);
  review(f, asg_of(&all, "007")->id, 1);
  review(f, asg_of(&all, "008")->id, 0);
  run_ok(f, "ComputeRoleModelTask");
  assert_int_equal(jh_fake_counter(&f->host, "unchanged"), 2);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_PENDING);
  assert_int_equal(asg_of(&all, "008")->state, JH_PROV_NONE);

  /* 008's values change: proposed again, for review */
  hr_person(f, "008", "Evelyn", "Moneypenny", NULL, 0);
  compute_all(f);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "008")->change, JH_CHANGE_ADDED);
  assert_int_equal(asg_of(&all, "008")->state, JH_PROV_AWAITING_APPROVAL);
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_PENDING);
}

static void test_role_model_orphans(void **state) {
  fx *f = *state;
  asgs all;
  const asg *a;
  hr_person(f, "007", "James", "Bond", NULL, 0);
  ad_entry(f, "999", "Ghost", "ghost@acme.example");
  compute_all(f);
  assert_int_equal(jh_fake_counter(&f->host, "orphans"), 1);
  read_asgs(f, &all);
  a = asg_of(&all, "-");
  assert_string_equal(a->target, "CN=Ghost");
  assert_int_equal(a->change, JH_CHANGE_NONE);
  assert_int_equal(a->state, JH_PROV_NONE);

  resource_types[0].remove_orphans = 1;
  run_ok(f, "ComputeRoleModelTask");
  read_asgs(f, &all);
  a = asg_of(&all, "-");
  assert_int_equal(a->change, JH_CHANGE_DELETED);
  assert_int_equal(a->state, JH_PROV_PENDING);

  /* An owner appears for it: the orphan assignment goes. */
  hr_person(f, "999", "Casper", "Ghost", NULL, 0);
  compute_all(f);
  read_asgs(f, &all);
  assert_string_equal(asg_of(&all, "999")->target, "CN=Ghost");
  for (size_t i = 0; i < all.n; i++)
    assert_string_not_equal(all.a[i].owner, "-");
}

/* A second resource type of the same target entity type: what the first
 * holds is no orphan of the second. */
static void test_role_model_two_types(void **state) {
  fx *f = *state;
  static jh_value_rule nobody[] = {RULE(NULL, S("lua:p:return false"), 40)};
  jh_resource_type *admin = &resource_types[1];
  asgs all;
  *admin = resource_types[0];
  admin->id = S("AD_Admin");
  admin->type_rules = nobody;
  admin->ncorrelation_rules = 0;
  model.nresource_types = 2;
  hr_person(f, "007", "James", "Bond", NULL, 0);
  ad_entry(f, "007", "Bond James", "James@acme.example");
  ad_entry(f, "999", "Ghost", "ghost@acme.example");
  compute_all(f);
  read_rt_asgs(f, "AD_Admin", &all);
  assert_int_equal(all.n, 1);
  assert_string_equal(all.a[0].owner, "-");
  assert_string_equal(all.a[0].target, "CN=Ghost");
  read_asgs(f, &all);
  assert_string_equal(asg_of(&all, "007")->target, "CN=Bond James");
  assert_string_equal(asg_of(&all, "-")->target, "CN=Ghost");
}

static void leaver(fx *f, int historize) {
  asgs all;
  two_accounts(f);
  compute_all(f);
  if (!historize)
    jh_fake_put(&f->host.params, "ignore_historization", "true");
  sql(f, "DELETE FROM resources WHERE key = '007'");
  run_ok(f, "ComputeRoleModelTask");
  assert_int_equal(jh_fake_counter(&f->host, "deleted"), 1);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "007")->change, JH_CHANGE_DELETED);
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_PENDING);
}

static void test_role_model_leaver(void **state) {
  fx *f = *state;
  leaver(f, 1);
  assert_true(sql_int(f, "SELECT count(*) FROM assignment_history") > 0);
}

static void test_role_model_no_history(void **state) {
  fx *f = *state;
  leaver(f, 0);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM assignment_history"), 0);
}

static void test_role_model_dirty(void **state) {
  fx *f = *state;
  asgs all;
  two_accounts(f);
  compute_all(f);
  clear_flags(f);
  jh_fake_put(&f->host.params, "dirty", "true");
  run_ok(f, "ComputeRoleModelTask");
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 0);

  /* 007's account changed: the target's flag brings its owner back */
  ad_entry(f, "007", "Bond James", "changed@acme.example");
  member_of(f, "CN=Bond James", "CN=Other");
  sql(f, "UPDATE resources SET dirty = 4 WHERE key = 'CN=Bond James'");
  run_ok(f, "ComputeRoleModelTask");
  assert_int_equal(jh_fake_counter(&f->host, "resources"), 1);
  assert_int_equal(dirty_of(f, "CN=Bond James"), 0);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "007")->change, JH_CHANGE_MODIFIED);
  assert_has(asg_of(&all, "007")->vals, "memberOf=/CN=Other@1 ");
}

/* ---- GenerateProvisioningOrdersTask ---- */

typedef struct files {
  char name[8][PATH_MAX];
  int n;
} files;

static int keep_file(const char *path, const char *name, void *arg) {
  files *fs = arg;
  if (name[0] == '.' || fs->n == 8)
    return 0;
  snprintf(fs->name[fs->n++], PATH_MAX, "%s", path);
  return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

/* The order files of AD_User, by name. */
static void order_files(fx *f, files *fs) {
  char dir[PATH_MAX];
  memset(fs, 0, sizeof(*fs));
  jh_test_path(dir, sizeof(dir), "%s/AD_User", f->orders);
  jh_dir_each(dir, keep_file, fs);
  qsort(fs->name, (size_t)fs->n, sizeof(fs->name[0]), cmp_names);
}

static json_t *load_orders(const char *path) {
  char err[512];
  json_t *orders;
  if (jh_order_file_read(path, &orders, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  return orders;
}

static void assert_json(const json_t *got, const json_t *want) {
  if (!json_equal(got, want)) {
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));
    char *w = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(1));
    fail_msg("got\n%s\nwant\n%s", g, w);
  }
}

static json_t *rt_json(void) {
  return json_pack("{s:s, s:{s:s}, s:{s:s}}", "Identifier", "AD_User",
                   "SourceEntityType", "Identifier", "HR_Person",
                   "TargetEntityType", "Identifier", "AD_Entry");
}

/* 007 has no account yet; 008's has the wrong mail. */
static void added_and_modified(fx *f) {
  hr_person(f, "007", "James", "Bond", NULL, 0);
  hr_person(f, "008", "Eve", "Moneypenny", NULL, 0);
  ad_entry(f, "008", "Moneypenny Eve", "old@acme.example");
  member_of(f, "CN=Moneypenny Eve", "CN=All");
  member_of(f, "CN=Moneypenny Eve", "CN=Old");
  compute_all(f);
  /* two orders for one live assignment: the percentages are off here
   * (test_orders_threshold_percent tests them) */
  resource_types[0].thresholds[JH_PTH_PCT_INSERT] = 0;
  resource_types[0].thresholds[JH_PTH_PCT_UPDATE] = 0;
}

static void test_orders(void **state) {
  fx *f = *state;
  asgs all;
  files fs;
  json_t *got, *want;
  char id7[32], id8[32];

  added_and_modified(f);
  read_asgs(f, &all);
  snprintf(id7, sizeof(id7), "%lld", asg_of(&all, "007")->id);
  snprintf(id8, sizeof(id8), "%lld", asg_of(&all, "008")->id);
  jh_fake_put_list(&f->host, "resource_types", ad_user);
  run_ok(f, "GenerateProvisioningOrdersTask");
  assert_int_equal(f->host.produced, 1);
  assert_int_equal(f->host.committed, 1);
  assert_int_equal(f->host.committed_held, 0);
  assert_int_equal(jh_fake_counter(&f->host, "orders"), 2);
  order_files(f, &fs);
  assert_int_equal(fs.n, 1);
  assert_has(fs.name[0], "-42-0001.json");
  got = load_orders(fs.name[0]);
  want = json_pack(
      "[{s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s},"
      "  s:{s:s, s:s, s:s, s:{s:[s]}}},"
      " {s:s, s:s, s:o, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s},"
      "  s:{s:s, s:{s:[s]}}, s:{s:s, s:s, s:s, s:s}}]",
      /* 007: Added, every value */
      "AssignedResourceTypeId", id7, "ChangeType", "Added", "ResourceType",
      rt_json(), "Owner", "Id", "007", "Identifier", "007", "employee_id",
      "007", "first_name", "James", "last_name", "Bond", "display_name",
      "Bond James", "mail", "James@acme.example", "Changes", "cn", "Bond James",
      "employeeID", "007", "mail", "James@acme.example", "memberOf", "Add",
      "CN=All",
      /* 008: Modified, only what differs; the account as it is */
      "AssignedResourceTypeId", id8, "ChangeType", "Modified", "ResourceType",
      rt_json(), "Owner", "Id", "008", "Identifier", "008", "employee_id",
      "008", "first_name", "Eve", "last_name", "Moneypenny", "display_name",
      "Moneypenny Eve", "mail", "Eve@acme.example", "Changes", "mail",
      "Eve@acme.example", "memberOf", "Remove", "CN=Old", "Resource", "dn",
      "CN=Moneypenny Eve", "cn", "Moneypenny Eve", "employeeID", "008", "mail",
      "old@acme.example");
  assert_non_null(want);
  assert_json(got, want);
  json_decref(got);
  json_decref(want);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_TRANSMITTED);
  assert_int_equal(asg_of(&all, "008")->state, JH_PROV_TRANSMITTED);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM orders"), 2);

  /* Nothing Pending any more: no file, no output. */
  run_ok(f, "GenerateProvisioningOrdersTask");
  assert_int_equal(f->host.produced, 0);
  assert_int_equal(f->host.committed, 0);
  order_files(f, &fs);
  assert_int_equal(fs.n, 1);
}

static void test_orders_by_connector_in_files(void **state) {
  fx *f = *state;
  files fs;
  added_and_modified(f);
  jh_fake_put(&f->host.params, "connector", "ad"); /* any case */
  jh_fake_put(&f->host.params, "batch_insert_size", "1");
  run_ok(f, "GenerateProvisioningOrdersTask");
  assert_int_equal(jh_fake_counter(&f->host, "files"), 2);
  order_files(f, &fs);
  assert_int_equal(fs.n, 2);
  assert_has(fs.name[0], "-42-0001.json");
  assert_has(fs.name[1], "-42-0002.json");
  json_decref(load_orders(fs.name[1]));
}

static void test_orders_threshold(void **state) {
  fx *f = *state;
  asgs all;
  files fs;
  hr_person(f, "007", "James", "Bond", NULL, 0);
  hr_person(f, "008", "Eve", "Moneypenny", NULL, 0);
  compute_all(f);
  resource_types[0].thresholds[JH_PTH_MAX_INSERT] = 1;
  jh_fake_put_list(&f->host, "resource_types", ad_user);
  assert_int_equal(run(f, "GenerateProvisioningOrdersTask"), JOBHOST_EBLOCKED);
  assert_has(f->host.message, "maximum_insert");
  assert_int_equal(f->host.committed, 0);
  order_files(f, &fs);
  assert_int_equal(fs.n, 0);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_PENDING);

  /* resume or --force: the thresholds do not block */
  assert_int_equal(run_force(f, "GenerateProvisioningOrdersTask", 1), 0);
  assert_int_equal(jh_fake_counter(&f->host, "orders"), 2);
  assert_int_equal(f->host.produced, 1);
}

static void test_orders_threshold_percent(void **state) {
  fx *f = *state;
  files fs;
  /* three accounts: two verified, one with another mail */
  two_accounts(f);
  hr_person(f, "010", "Bill", "Tanner", NULL, 0);
  ad_entry(f, "010", "Tanner Bill", "Bill@acme.example");
  member_of(f, "CN=Tanner Bill", "CN=All");
  compute_all(f);
  jh_fake_put_list(&f->host, "resource_types", ad_user);
  /* one Modified of three live assignments: 33 % over the default 30 */
  assert_int_equal(run(f, "GenerateProvisioningOrdersTask"), JOBHOST_EBLOCKED);
  assert_has(f->host.message, "maximum_update_percent");
  order_files(f, &fs);
  assert_int_equal(fs.n, 0);
  /* force_provisioning, as a parameter, does what --force does */
  jh_fake_put(&f->host.params, "force_provisioning", "true");
  run_ok(f, "GenerateProvisioningOrdersTask");
  assert_int_equal(jh_fake_counter(&f->host, "modified"), 1);
  jh_fake_put(&f->host.params, "force_provisioning", "false");

  /* 010's and 007's accounts change: two Modified of three, under a
   * higher percentage */
  ad_entry(f, "010", "Tanner Bill", "moved@acme.example");
  ad_entry(f, "007", "Bond James", "moved7@acme.example");
  run_ok(f, "ComputeRoleModelTask");
  assert_int_equal(jh_fake_counter(&f->host, "modified"), 2);
  resource_types[0].thresholds[JH_PTH_PCT_UPDATE] = 70;
  run_ok(f, "GenerateProvisioningOrdersTask");
  assert_int_equal(jh_fake_counter(&f->host, "modified"), 2);
}

/* A value that is not UTF-8 cannot go into JSON: the task says which,
 * and writes nothing. */
static void test_orders_not_utf8(void **state) {
  fx *f = *state;
  files fs;
  asgs all;
  hr_person(f, "007", "Jos\xe9", "Bond", NULL, 0);
  compute_all(f);
  jh_fake_put_list(&f->host, "resource_types", ad_user);
  assert_int_equal(run(f, "GenerateProvisioningOrdersTask"), -EILSEQ);
  assert_has(f->host.message, "HR_Person 007: the value of first_name is "
                              "not UTF-8");
  order_files(f, &fs);
  assert_int_equal(fs.n, 0);
  read_asgs(f, &all);
  assert_int_equal(asg_of(&all, "007")->state, JH_PROV_PENDING);
}

/* n people 0000.., each with an Added order; bad (when >= 0) has a
 * first name that is not UTF-8. */
static void many_people(fx *f, int n, int bad) {
  char id[16], first[16];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof(id), "%04d", i);
    snprintf(first, sizeof(first), i == bad ? "P\xe9%04d" : "P%04d", i);
    hr_person(f, id, first, "Bond", NULL, 0);
  }
  compute_all(f);
  jh_fake_put_list(&f->host, "resource_types", ad_user);
}

/* More orders than the builder's batches hold, a file spanning batches:
 * each order once, in the assignments' order, batch_insert_size a file,
 * each recorded with its own file. */
static void test_orders_many_batches(void **state) {
  fx *f = *state;
  files fs;
  long long last = 0;
  size_t total = 0;

  many_people(f, 1300, -1);
  jh_fake_put(&f->host.params, "batch_insert_size", "1100");
  run_ok(f, "GenerateProvisioningOrdersTask");
  assert_int_equal(jh_fake_counter(&f->host, "orders"), 1300);
  assert_int_equal(jh_fake_counter(&f->host, "added"), 1300);
  order_files(f, &fs);
  assert_int_equal(fs.n, 2);
  for (int k = 0; k < 2; k++) {
    json_t *list = load_orders(fs.name[k]);
    assert_int_equal(json_array_size(list), k == 0 ? 1100 : 200);
    for (size_t i = 0; i < json_array_size(list); i++) {
      json_t *o = json_array_get(list, i);
      long long id = atoll(
          json_string_value(json_object_get(o, "AssignedResourceTypeId")));
      assert_true(id > last);
      last = id;
    }
    total += json_array_size(list);
    json_decref(list);
  }
  assert_int_equal(total, 1300);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM assignment_states "
                              "WHERE state = 2"),
                   1300);
  assert_int_equal(sql_int(f, "SELECT count(DISTINCT assignment) FROM orders"),
                   1300);
  assert_int_equal(sql_int(f, "SELECT max(n) FROM (SELECT count(*) AS n "
                              "FROM orders GROUP BY file)"),
                   1100);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM orders o JOIN "
                              "assignments a ON a.id = o.assignment JOIN "
                              "order_files f ON f.id = o.file WHERE "
                              "(a.id <= (SELECT min(id) + 1099 FROM "
                              "assignments)) <> (f.path LIKE '%-0001.json')"),
                   0);
}

/* A failure late in the run, after files were written and their orders
 * recorded in the task's transaction: no file stays, nothing is
 * Transmitted, the message names the resource. */
static void test_orders_late_failure(void **state) {
  fx *f = *state;
  files fs;
  many_people(f, 1300, 1250);
  jh_fake_put(&f->host.params, "batch_insert_size", "100");
  assert_int_equal(run(f, "GenerateProvisioningOrdersTask"), -EILSEQ);
  assert_has(f->host.message, "HR_Person 1250: the value of first_name is "
                              "not UTF-8");
  assert_int_equal(f->host.committed, 0);
  order_files(f, &fs);
  assert_int_equal(fs.n, 0);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM orders"), 0);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM order_files"), 0);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM assignment_states "
                              "WHERE state = 1"),
                   1300);
}

/* ---- rules that fail ---- */

static void role_model_fails(fx *f, const char *criterion, const char *want) {
  hr_person(f, "007", "James", "Bond", NULL, 0);
  type_rules[0].expression = S(criterion);
  jh_fake_put_list(&f->host, "entity_types", hr_only);
  assert_int_not_equal(run(f, "ComputeRoleModelTask"), 0);
  assert_has(f->host.message, "AD_User/type rule 1");
  assert_has(f->host.message, "HR_Person 007");
  assert_has(f->host.message, want);
  assert_int_equal(sql_int(f, "SELECT count(*) FROM assignments"), 0);
}

static void test_lua_error(void **state) {
  role_model_fails(*state, "lua:p:return p.manager.nothing", "model.yaml:");
}

static void test_lua_loop(void **state) {
  role_model_fails(*state, "lua:p:while true do end", "model.yaml:");
}

static void test_lua_allocates(void **state) {
  role_model_fails(*state,
                   "lua:p:local t = {} while true do t[#t + 1] = "
                   "string.rep('x', 4096) .. #t end",
                   "memory");
}

static void test_expression_error(void **state) {
  fx *f = *state;
  hr_person(f, "007", "James", "Bond", NULL, 0);
  expressions[0].value.expression = S("lua:p:return p.first_name .. nil");
  jh_fake_put_list(&f->host, "entity_types", hr_only);
  assert_int_not_equal(run(f, "UpdateEntityPropertyExpressionsTask"), 0);
  assert_has(f->host.message, "HR_DisplayName");
  assert_has(f->host.message, "HR_Person 007");
}

static void test_flags(void **state) {
  (void)state;
  for (const jobhost_task_type *t = jobhost_plugin_descriptor.task_types;
       t->name != NULL; t++)
    assert_false(t->flags & JOBHOST_TASK_NOT_IMPLEMENTED);
  assert_true(task_type("GenerateProvisioningOrdersTask")->flags &
              JOBHOST_TASK_CAN_BLOCK);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flags),
      T(test_expressions),
      T(test_expressions_dirty),
      T(test_correlation),
      T(test_role_model_added),
      T(test_role_model_correlated),
      T(test_role_model_manager_waits),
      T(test_role_model_blocked),
      T(test_role_model_review),
      T(test_role_model_orphans),
      T(test_role_model_two_types),
      T(test_role_model_leaver),
      T(test_role_model_no_history),
      T(test_role_model_dirty),
      T(test_orders),
      T(test_orders_by_connector_in_files),
      T(test_orders_threshold),
      T(test_orders_threshold_percent),
      T(test_orders_not_utf8),
      T(test_orders_many_batches),
      T(test_orders_late_failure),
      T(test_lua_error),
      T(test_lua_loop),
      T(test_lua_allocates),
      T(test_expression_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
