/*
 * xml_import.h — Identity Manager (Usercube) configuration XML to pipeline
 * YAML (doc/xml-import.md has the user's side).
 *
 * Input: one or more files whose root is
 *   <ConfigurationFile xmlns="urn:schemas-usercube-com:configuration">,
 * read as one configuration (a Job may name, by Step or override, a task
 * declared at the top level of another file). Files are read safely and
 * at most JH_XML_MAX_BYTES each (xml_read.h).
 *
 * What becomes what (doc/identity-manager.md):
 *   Job                       job: (exactly one Job, or the one chosen)
 *     Identifier              id
 *     DisplayName_L1          display_name
 *     DisplayName_L2..L16     kept as comments ("# DisplayName_L2: ...")
 *     Agent                   agent
 *     CronTabExpression       schedule
 *     MaxTaskBatchSize        max_parallel
 *   <XxxTask> in Job          a task of type XxxTask (a loaded plugin must
 *                             provide the type)
 *   <Step Identifier|Task=    the top-level task of that Identifier, with
 *     Level=/>                the Step's Level (-1, the default, keeps the
 *                             task's own Level)
 *   <XxxTaskOverride          the top-level XxxTask of that Identifier
 *     Identifier= .../>       with the override's attributes replacing its
 *                             own (children of an override: unsupported)
 *   task attributes           Identifier -> id, Level -> level,
 *                             ContinueOnError -> continue_on_error,
 *                             Agent, DisplayName_* as for Job,
 *                             Type -> prepare_type, every other attribute
 *                             in snake_case (IgnoreCookieFile ->
 *                             ignore_cookie_file, OpenIdClient ->
 *                             open_id_client) when the task type's
 *                             parameter schema has that key
 *   TaskDependsOnTask ParentTask=          depends_on
 *   TaskEntityType EntityType=|Identifier= entity_types
 *   TaskResourceType ResourceType=         resource_types
 *   Connector                 connectors: id, display_name, agent,
 *                             deactivated (IsDeactivated), thresholds (the
 *                             ten threshold attributes in snake_case)
 *   Connection                connections: id, connector, display_name,
 *                             package (see jh_xml_package)
 *
 * Values: booleans written 1/0/true/false (any case) become true/false;
 * integers and enumeration values are checked (enumerations match in any
 * case and are written as the schema spells them); path parameters are
 * made absolute against the XML file's folder.
 *
 * Tasks without Identifier get the id
 *   <Connector>_<element name without "Task">[_<SynchronizationMode>]
 * (<Job Identifier> instead of <Connector> when the task has none), e.g.
 * AD_PrepareSynchronization_Complete. When that id is already taken by
 * another task of the job, "_2", "_3", ... is appended (the first free
 * one); the output says so in a comment.
 *
 * Anything else — an element, attribute or text jobhost does not support,
 * a task type no loaded plugin provides, a package with no jobhost
 * equivalent — is reported with its file:line:column, its name and what
 * is supported: an error, or with `lenient` a warning, the part being left
 * out and kept in the output as a comment. Nothing is dropped silently.
 */
#ifndef JH_XML_IMPORT_H
#define JH_XML_IMPORT_H

#include <stddef.h>

#include "diag.h"
#include "loader.h"
#include "pipeline.h"
#include "xml_read.h"

/* The namespace of Identity Manager configuration files. */
#define JH_XML_NAMESPACE "urn:schemas-usercube-com:configuration"

typedef struct jh_xml_options {
  int lenient;     /* unsupported parts: warnings, left out as comments */
  const char *job; /* Identifier of the Job to import; NULL: the only one */
  int job_only;    /* write the job only (no connectors:, connections:) */
  const char *const *includes; /* written as `include:`, as given (a path
                                  relative to where the YAML will be) */
  size_t nincludes;
  int model_only; /* write the model sections only (no job needed; the
                     jobs and tasks are listed as comments) */
} jh_xml_options;

/* Where a line of the YAML comes from: file (an index into files, -1 for
 * none), line and column in it (0 when unknown). */
typedef struct jh_xml_origin {
  int file;
  int line;
  int column;
} jh_xml_origin;

typedef struct jh_xml_output {
  char *yaml; /* the pipeline text, NUL-terminated; owned */
  size_t len;
  jh_xml_origin *origins; /* origins[i]: where YAML line i + 1 comes from */
  size_t nlines;
  char **files; /* the input paths, as given; owned */
  size_t nfiles;
} jh_xml_output;

/*
 * Import `paths` (npaths >= 1) with the task types and schemas of `reg`.
 * Returns 0 with *out filled (diags may hold warnings); JOBHOST_ECONFIG
 * when diags hold errors, with *out filled as far as the input allowed
 * (out->yaml may be NULL) — that text is for locating further problems,
 * never to be written; or -ENOMEM. Clear *out with jh_xml_output_clear in
 * every case. opt may be NULL (the defaults: strict, the only job, with
 * the model sections).
 */
int jh_xml_import(const char *const *paths, size_t npaths,
                  const jh_registry *reg, const jh_xml_options *opt,
                  jh_xml_output *out, jh_diags *diags);

void jh_xml_output_clear(jh_xml_output *o);

/*
 * jh_pipeline_load for an XML file: import it, then load the YAML with
 * jh_pipeline_load (through a temporary file, removed at once), so that
 * it gets exactly the checks of a pipeline. Every diagnostic and every
 * location in the returned pipeline points at the XML file (line and
 * column of the element or attribute the YAML line came from). Returns
 * as jh_pipeline_load does.
 */
int jh_xml_pipeline_load(const char *path, const jh_registry *reg,
                         const jh_xml_options *opt, jh_pipeline **out,
                         jh_diags *diags);

/* Sort diags->items[first..] by file (in the order of `files`; others
 * last), line and column, keeping the order of equal places. */
void jh_xml_sort_diags(jh_diags *d, size_t first, char *const *files,
                       size_t nfiles);

/* The jobhost package of an Identity Manager package identifier
 * ("Usercube.CSV@0000001" -> "csv"), or NULL when there is none:
 *   Usercube.CSV, Usercube.CSV.Complete  -> csv
 *   Usercube.LDAP                        -> ldap
 *   Usercube.AD                          -> ldap (AD over LDAP; no DirSync)
 * The name is compared in any case; the @version part is ignored. */
const char *jh_xml_package(const char *im_package);

/* The snake_case key of an attribute name (IgnoreCookieFile ->
 * ignore_cookie_file, OpenIdClient -> open_id_client). malloc'd, or NULL
 * when out of memory. */
char *jh_xml_snake(const char *name);

#endif /* JH_XML_IMPORT_H */
