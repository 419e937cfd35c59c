/*
 * model.h — the identity model: connectors, connections, entity types,
 * entity type mappings and association mappings (doc/identity-manager.md,
 * "The identity model" and "Thresholds"). Plain data, read from model YAML
 * by the host (host/config/model_load.c, file format in doc/model.md) and
 * shared with the built-in plugins through the host_object service
 * (JH_MODEL_OBJECT).
 *
 * Everything here is owned by the jh_model and freed by jh_model_free;
 * a loaded model is never modified, so workers can read it freely.
 */
#ifndef JH_MODEL_H
#define JH_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Name of the host object holding the job's model (const jh_model *). */
#define JH_MODEL_OBJECT "jobhost.model/1"
/* Name of the host object holding the identity store's path (const char *). */
#define JH_IDSTORE_OBJECT "jobhost.identity-store/1"
/* Name of the host object holding the path of the task attempt's log
 * (const char *; the file may not exist yet). Reports that go "beside the
 * task log" take its name with another suffix. */
#define JH_TASKLOG_OBJECT "jobhost.task-log/1"
/* Name of the host object through which a task says it passed its point of
 * no return (const jh_commit_notice *): its transaction is committed, so a
 * cancel or a kill that comes later cannot undo it. held says what the
 * transaction did: 0, it applied the changes (a task that then ends
 * without a result is recorded Succeeded); 1, it held them over a
 * threshold (such a task is recorded Blocked, its held changes left for
 * a resume). A task sets its counters before it sends the notice. */
#define JH_COMMIT_OBJECT "jobhost.committed/2"
struct jobhost_ctx;
typedef struct jh_commit_notice {
  void (*committed)(struct jobhost_ctx *ctx, int held);
} jh_commit_notice;

/* Where an item is written: file (borrowed from whoever loaded the model,
 * alive as long as the model), 1-based line and column; line 0 when the
 * item was not read from a file. */
typedef struct jh_mloc {
  const char *file;
  int line;
  int column;
} jh_mloc;

/* A threshold value that was not written (the default applies). */
#define JH_THRESHOLD_UNSET (-1)

/*
 * Thresholds (doc/identity-manager.md). A value is a count (maximum_*)
 * or a percentage of the stored resources or links (max_percentage_*);
 * 0 disables it. Connector defaults: 100 lines and 5 % for resources,
 * 1000 lines and 5 % for links; mapping defaults are 0.
 */
typedef enum jh_threshold_kind {
  JH_TH_MAX_DELETED = 0,
  JH_TH_MAX_INSERTED,
  JH_TH_MAX_UPDATED,
  JH_TH_PCT_DELETED,
  JH_TH_PCT_INSERTED,
  JH_TH_PCT_UPDATED,
  JH_TH_LINK_MAX_DELETED,
  JH_TH_LINK_MAX_INSERTED,
  JH_TH_LINK_PCT_DELETED,
  JH_TH_LINK_PCT_INSERTED,
  JH_TH_COUNT
} jh_threshold_kind;

typedef struct jh_thresholds {
  int64_t v[JH_TH_COUNT]; /* JH_THRESHOLD_UNSET when not written */
} jh_thresholds;

/* The YAML key of a threshold (e.g. "maximum_deleted_lines"). */
const char *jh_threshold_key(jh_threshold_kind k);
/* Value in force: the written one, else the connector default (when
 * connector_level) or 0. */
int64_t jh_threshold_value(const jh_thresholds *t, jh_threshold_kind k,
                           int connector_level);

/* Source-health guard of a connector (doc/synchronization.md). */
typedef struct jh_source_health {
  int allow_empty;        /* an empty table is accepted (default: no) */
  int max_shrink_percent; /* a table may lose at most this share of its
                             rows against the last good run; 0 disables;
                             default 50 */
} jh_source_health;

/* Whether the scaffolds take a connector into a complete or incremental
 * job (CompleteJob, IncrementalJob; doc/scaffold.md). */
typedef enum jh_job_use {
  JH_JOB_USED = 0,                 /* synchronized and provisioned */
  JH_JOB_NOT_USED = 1,             /* left out */
  JH_JOB_ONLY_SYNCHRONIZATION = 2, /* no provisioning task */
  JH_JOB_ONLY_PROVISIONING = 3     /* no synchronization task */
} jh_job_use;

typedef struct jh_connector {
  char *id;
  char *display_name; /* NULL when not given */
  char *agent;        /* NULL when not given */
  int deactivated;    /* IsDeactivated */
  jh_thresholds thresholds;
  jh_source_health health;
  jh_mloc loc;
  jh_job_use complete_job;    /* CompleteJob, default Used */
  jh_job_use incremental_job; /* IncrementalJob, default Used */
} jh_connector;

/* Which of its package's steps a connection leaves out
 * (DeactivationExportFulfill): the scaffolds do not export from a
 * connection with EXPORT, nor fulfill through one with FULFILL. */
typedef enum jh_deactivation {
  JH_DEACTIVATE_NONE = 0,
  JH_DEACTIVATE_EXPORT = 1,
  JH_DEACTIVATE_FULFILL = 2
} jh_deactivation;

/* One setting of a connection, as written (text; paths made absolute). */
typedef struct jh_setting {
  char *name;
  char *value;  /* a list's items joined with commas */
  char **items; /* a LIST setting's items (NULL for other types) */
  size_t nitems;
} jh_setting;

/* Where a secret comes from: never the model text itself. */
typedef enum jh_secret_source {
  JH_SECRET_FILE = 0, /* the contents of a file (one trailing newline
                         dropped) */
  JH_SECRET_ENV = 1   /* an environment variable of the host */
} jh_secret_source;

typedef struct jh_secret {
  char *name;
  jh_secret_source source;
  char *ref; /* the file path (absolute) or the variable name */
} jh_secret;

typedef struct jh_connection {
  char *id;
  char *connector; /* connector id */
  char *package;   /* connector package name, e.g. "csv" */
  char *display_name;
  jh_setting *settings;
  size_t nsettings;
  jh_secret *secrets;
  size_t nsecrets;
  char *base_dir; /* folder of the file that declared it (absolute) */
  jh_mloc loc, connector_loc, package_loc;
  jh_deactivation deactivation; /* deactivation_export_fulfill */
} jh_connection;

typedef enum jh_property_type {
  JH_PROP_STRING = 0,
  JH_PROP_INTEGER,
  JH_PROP_BOOLEAN,
  JH_PROP_DATETIME,
  JH_PROP_LINK, /* single-valued navigation to `target` (by its key) */
  JH_PROP_LINKS /* multi-valued navigation, filled by an association
                   mapping */
} jh_property_type;

typedef struct jh_property {
  char *id;
  jh_property_type type;
  char *target; /* LINK/LINKS: the target entity type id; else NULL */
  jh_mloc loc;
} jh_property;

typedef struct jh_entity_type {
  char *id;
  char *display_name;
  jh_property *properties;
  size_t nproperties;
  jh_mloc loc;
} jh_entity_type;

/* One property of an entity type mapping: which column fills it. */
typedef struct jh_mapped_property {
  char *property; /* property id of the entity type */
  char *column;   /* column of the connection table */
  int primary_key;
  int unique_key;
  char *format; /* optional value format, e.g. "datetime" (NULL) */
  jh_mloc loc;
} jh_mapped_property;

/* EntityTypeMapping: an entity type filled from one table of a connector.
 * Exactly one mapped property is the primary key. */
typedef struct jh_entity_mapping {
  char *entity_type; /* also the mapping's identifier */
  char *connector;
  char *connection_table; /* table name = CSV file stem in ExportOutput */
  jh_mapped_property *properties; /* in the written order */
  size_t nproperties;
  size_t primary_key; /* index into properties */
  jh_thresholds thresholds;
  jh_mloc loc, entity_type_loc, connector_loc;
} jh_entity_mapping;

/* EntityAssociationMapping: a multi-valued link filled from a two-column
 * table. column1 names the owner (matched against key1 of the owner
 * entity type: its primary key unless key1 names a unique key), column2
 * the target (same with key2 in the target entity type). */
typedef struct jh_association_mapping {
  char *id;
  char *connector;
  char *connection_table;
  char *entity_type; /* owner */
  char *property;    /* a LINKS property of entity_type */
  char *column1;
  char *column2;
  char *key1; /* property id of the owner's key used by column1 */
  char *key2; /* property id of the target's key used by column2 */
  jh_thresholds thresholds;
  jh_mloc loc, connector_loc, entity_type_loc, property_loc, key1_loc, key2_loc;
} jh_association_mapping;

/*
 * Rules of the role model and computed properties (doc/model.md,
 * doc/expressions.md). A rule's value comes from a binding, an
 * expression, or both (a built-in function applied to the binding); a
 * `literal` is kept as the expression "Literal:<text>". The text is
 * kept as written: expressions are compiled by whoever evaluates them
 * (lib/expr.h), never stored compiled in the model.
 */
typedef struct jh_value_rule {
  char *binding;       /* NULL when not given */
  char *expression;    /* NULL when not given */
  jh_mloc loc;         /* of the expression, else of the binding; for an
                          expression in a block scalar, of its first line */
  jh_mloc binding_loc; /* of the binding (line 0 when not given) */
} jh_value_rule;

/* EntityPropertyExpression: a computed property of an entity type. */
typedef struct jh_property_expression {
  char *id;
  char *entity_type;
  char *property; /* a declared property of entity_type, not a link */
  jh_value_rule value;
  int priority; /* of several rules giving a value, the highest wins */
  jh_mloc loc, entity_type_loc, property_loc;
} jh_property_expression;

/* Provisioning thresholds of a resource type (doc/provisioning.md): a
 * count (0 disables) or a percentage of the resource type's assignments
 * (default 30; skipped while it has none). */
typedef enum jh_prov_threshold_kind {
  JH_PTH_MAX_INSERT = 0,
  JH_PTH_MAX_UPDATE,
  JH_PTH_MAX_DELETE,
  JH_PTH_PCT_INSERT,
  JH_PTH_PCT_UPDATE,
  JH_PTH_PCT_DELETE,
  JH_PTH_COUNT
} jh_prov_threshold_kind;

/* The YAML key of a provisioning threshold ("maximum_insert", ...,
 * "maximum_delete_percent"). */
const char *jh_prov_threshold_key(jh_prov_threshold_kind k);

typedef struct jh_scalar_rule {
  char *property; /* a scalar property of the target entity type */
  jh_value_rule value;
  jh_mloc loc, property_loc;
} jh_scalar_rule;

/* A multi- or single-valued link of the target: either one fixed target
 * resource (its key) or a binding on the source (resolved to the
 * source resources whose assignment of the same resource type gives the
 * targets, or to target keys when the binding ends on the target's
 * entity type). */
typedef struct jh_navigation_rule {
  char *property;      /* a link or links property of the target entity type */
  char *resource;      /* fixed target key, or NULL */
  jh_value_rule value; /* binding when resource is NULL */
  jh_mloc loc, property_loc;
} jh_navigation_rule;

/* A correlation rule: an owner and a target correlate when the source
 * side's value on the owner equals the target side's on the target. */
typedef struct jh_correlation_rule {
  jh_value_rule source; /* on the source entity type */
  jh_value_rule target; /* on the target entity type */
  int confidence;       /* 0..150; under 100 needs review */
  jh_mloc loc;
} jh_correlation_rule;

typedef struct jh_resource_type {
  char *id;
  char *source_entity_type;
  char *target_entity_type;
  char *connector;        /* default: the connector of the target's mapping */
  int allow_add;          /* default 1 */
  int allow_remove;       /* default 1 */
  int remove_orphans;     /* default 0; needs allow_remove */
  int block_provisioning; /* default 1, as Identity Manager */
  int64_t thresholds[JH_PTH_COUNT];
  jh_value_rule *type_rules; /* criteria, OR-ed; none: every source */
  size_t ntype_rules;
  jh_scalar_rule *scalar_rules;
  size_t nscalar_rules;
  jh_navigation_rule *navigation_rules;
  size_t nnavigation_rules;
  jh_correlation_rule *correlation_rules;
  size_t ncorrelation_rules;
  jh_mloc loc, source_loc, target_loc, connector_loc; /* connector_loc: line
                                                         0 when defaulted */
} jh_resource_type;

typedef struct jh_model {
  jh_connector *connectors;
  size_t nconnectors;
  jh_connection *connections;
  size_t nconnections;
  jh_entity_type *entity_types;
  size_t nentity_types;
  jh_entity_mapping *mappings;
  size_t nmappings;
  jh_association_mapping *associations;
  size_t nassociations;
  jh_property_expression *expressions;
  size_t nexpressions;
  jh_resource_type *resource_types;
  size_t nresource_types;
  struct jh_classification_rule *classification_rules; /* model_classify */
  size_t nclassification_rules;
  struct jh_profile_context *profile_contexts;
  size_t nprofile_contexts;
} jh_model;

/* Lookups (NULL when absent). Connector and connection identifiers are
 * case-insensitive (doc/identity-manager.md); the others are exact. An
 * item whose identifier was refused while loading has none (NULL) and is
 * never found, so that a model with errors can still be checked. */
const jh_connector *jh_model_connector(const jh_model *m, const char *id);
const jh_connection *jh_model_connection(const jh_model *m, const char *id);
const jh_entity_type *jh_model_entity_type(const jh_model *m, const char *id);
const jh_property *jh_entity_type_property(const jh_entity_type *et,
                                           const char *id);
const jh_entity_mapping *jh_model_mapping(const jh_model *m,
                                          const char *entity_type);
const jh_resource_type *jh_model_resource_type(const jh_model *m,
                                               const char *id);
/* The connector of resource type rt: its own, else that of its target
 * entity type's mapping (NULL when neither names one). */
const char *jh_model_resource_type_connector(const jh_model *m,
                                             const jh_resource_type *rt);
const char *jh_connection_setting(const jh_connection *c, const char *name);

/* The mappings and association mappings of one connector, in model
 * order: *out receives a malloc'd array of borrowed pointers (caller
 * frees the array). Return the count, or (size_t)-1 when out of memory. */
size_t jh_model_connector_mappings(const jh_model *m, const char *connector,
                                   const jh_entity_mapping ***out);
size_t jh_model_connector_associations(const jh_model *m, const char *connector,
                                       const jh_association_mapping ***out);

/*
 * Whether a value (len bytes, not NUL-terminated; empty means no value and
 * is always valid) fits a property type: integer [+-]digits within 64
 * bits; boolean true, false, 1 or 0 (any case); datetime
 * YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|(+|-)HH:MM] or LDAP's generalized
 * time YYYYMMDDHHMM[SS][.fraction][Z|(+|-)HHMM]; string and links take
 * anything. 1 valid, 0 not; *expected (when not NULL) then describes what
 * was expected.
 */
int jh_property_value_ok(jh_property_type type, const char *v, size_t len,
                         const char **expected);

/* Read a secret into buf (NUL terminated). Returns 0, -ENOENT (no such
 * secret, file or variable), -ERANGE (buf too small) or -errno. */
int jh_secret_read(const jh_secret *s, char *buf, size_t size);

void jh_model_free(jh_model *m);

/*
 * Classification and profiles (doc/classification.md, doc/model.md), read
 * by host/config/model_classify.c.
 */

/* ResourceClassificationRule: a target resource of the resource type's
 * target entity type for which the rule holds (its value is set and is
 * not false) is of that resource type, with the given confidence. */
typedef struct jh_classification_rule {
  char *resource_type;
  jh_value_rule target; /* on the target entity type */
  int confidence;       /* 0..150, default 100 */
  jh_mloc loc, resource_type_loc;
} jh_classification_rule;

/* ProfileRule: gives (or, is_denied, refuses) a profile to the resources
 * of its context that the root criterion selects; with a sub-binding in
 * the context, once per sub-resource the sub criterion selects (the
 * sub-resource's key is the profile's scope). A criterion not given
 * selects everything. */
typedef struct jh_profile_rule {
  char *profile;
  int is_denied;
  jh_value_rule root; /* on the context's entity type (none: every one) */
  jh_value_rule sub;  /* on the sub-binding's entity type (none: every one) */
  jh_mloc loc, profile_loc;
} jh_profile_rule;

/* ProfileRuleContext: whose resources get profiles — the resources of an
 * entity type, or the owners of a resource type's assignments that hold
 * a target (the resource type's source entity type). */
typedef struct jh_profile_context {
  char *entity_type;      /* exactly one of entity_type and resource_type */
  char *resource_type;    /* (for a resource type, entity_type is filled in
                             with its source entity type when checked) */
  char *sub_binding;      /* NULL, or a binding ending on a link/links */
  char *sub_entity_type;  /* where sub_binding leads (filled in when
                             checked) */
  int is_applied_to_root; /* default 1: rules also give unscoped profiles */
  jh_profile_rule *rules;
  size_t nrules;
  jh_mloc loc, entity_type_loc, resource_type_loc, sub_binding_loc;
} jh_profile_context;

/* Free what the loader allocated for these (called by jh_model_free). */
void jh_model_free_classify(jh_model *m);

#endif /* JH_MODEL_H */
