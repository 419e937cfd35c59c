/*
 * jobhost/testkit.h — a host in a box, for a plugin's unit tests.
 *
 * The test kit (libjobhost-testkit, pkg-config jobhost-testkit) runs a
 * task type, or a connector package's export or fulfill, in the test's
 * own process, through the host's own code: the services table a task
 * sees is the one jobhost gives its workers, the export goes through the
 * built-in ExportTask (its table writer, counters, cookie and output
 * rules) and the fulfill through the built-in FulfillTask (order files,
 * results, fulfill_begin/fulfill_end). Only the scheduling around one
 * task is left out: there is no job, no worker process, no time limit.
 *
 *   jobhost_testkit *kit;
 *   extern const jobhost_plugin jobhost_plugin_descriptor; // yours
 *   jobhost_testkit_new(&kit);
 *   jobhost_testkit_add_plugin(kit, &jobhost_plugin_descriptor);
 *   jobhost_testkit_setting(kit, "path", "people.jsonl");
 *   rc = jobhost_testkit_export(kit, "jsonl");   // 0: Succeeded
 *   jobhost_testkit_cell(kit, "people", 0, "id"); // first row's id
 *   jobhost_testkit_counter(kit, "rows", &rows);
 *   jobhost_testkit_free(kit);
 *
 * Everything the kit returns is owned by the kit and stays valid until
 * the next run or until jobhost_testkit_free. Every string passed in is
 * copied. Functions returning int give 0 or a negative code
 * (jobhost/error.h); a refused call writes why into
 * jobhost_testkit_error().
 *
 * The kit is a test library, installed as a static library only: it is
 * not part of the plugin ABI and a plugin never links it; a test program
 * links it with `pkg-config --libs jobhost-testkit`. Its functions are not
 * thread-safe.
 */
#ifndef JOBHOST_TESTKIT_H
#define JOBHOST_TESTKIT_H

#include <stddef.h>
#include <stdint.h>

#include <jobhost/jobhost.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jobhost_testkit jobhost_testkit;

/* A kit with its own temporary home (under $TMPDIR, else /tmp): the
 * folders a task sees (jobhost_testkit_folder), a connection named
 * "TestConnection" with no setting, secret or cookie. 0 and *out, or a
 * negative code. */
int jobhost_testkit_new(jobhost_testkit **out);

/* Remove the temporary home and free the kit. NULL is a no-op. */
void jobhost_testkit_free(jobhost_testkit *kit);

/* Why the last refused call (or failed run set-up) was refused: one line,
 * "" when none was. */
const char *jobhost_testkit_error(const jobhost_testkit *kit);

/* ---- what the task sees ---- */

/* Offer a plugin's task types and packages, as the host's loader would:
 * the descriptor is checked by the loader's rules (jobhost/plugin.h) and
 * refused (JOBHOST_EABI, JOBHOST_EDUPLICATE, -EINVAL) with the loader's
 * reason. The descriptor is borrowed: it must outlive the kit. A test
 * linked with the plugin's source passes &jobhost_plugin_descriptor. */
int jobhost_testkit_add_plugin(jobhost_testkit *kit,
                               const jobhost_plugin *plugin);

/* Set a parameter of the task to run (value NULL: unset it). The value is
 * text, as a pipeline file writes it; it is checked against the task
 * type's schema when the task runs, as the host checks a pipeline. */
int jobhost_testkit_param(jobhost_testkit *kit, const char *name,
                          const char *value);

/* Set a list parameter to n items. */
int jobhost_testkit_param_list(jobhost_testkit *kit, const char *name,
                               const char *const *items, size_t n);

/* Set a setting of the connection (value NULL: unset it). A relative
 * path setting is relative to jobhost_testkit_dir(). */
int jobhost_testkit_setting(jobhost_testkit *kit, const char *name,
                            const char *value);

/* ABI 1.2: set a list setting of the connection to n items, read back
 * with setting_list. */
int jobhost_testkit_setting_list(jobhost_testkit *kit, const char *name,
                                 const char *const *items, size_t n);

/*
 * ABI 1.2: declare an entity type of the kit's model, for the read
 * services (entity_types, entity_type, resources_*). Each property is
 * "name" (a string), "name:type" (string, integer, boolean, datetime) or
 * "name:link:Target" / "name:links:Target"; the first is its key. The
 * kit's connector fills it (JOBHOST_READ_CONNECTOR sees it; a task's
 * ctx->connector is the kit's connector when it has the kit's connection
 * or `connector: TestConnector`). Not in the model of
 * jobhost_testkit_fulfill, which has its own.
 */
int jobhost_testkit_entity_type(jobhost_testkit *kit, const char *name,
                                const char *const *properties, size_t n);

/* ABI 1.2: put a resource of a declared entity type into the kit's
 * identity store, as a synchronization would: n values "property=value",
 * the key among them; a links property may be given several times (one
 * target each). A resource with the same key is replaced. */
int jobhost_testkit_resource(jobhost_testkit *kit, const char *entity_type,
                             const char *const *values, size_t n);

/* Give the connection a secret: the kit keeps it in a file of its folder
 * (mode 0600), as a model's `secrets: {name: {file: …}}` would. As in a
 * model, the package must declare it among its settings with `secret`
 * set, or the run is refused. */
int jobhost_testkit_secret(jobhost_testkit *kit, const char *name,
                           const char *value);

/* Set the connection's incremental cookie (data NULL: no cookie), which
 * cookie_get returns to the next run. */
int jobhost_testkit_cookie(jobhost_testkit *kit, const void *data, size_t size);

/* Name the connection's package (what a model's `package:` says), for
 * jobhost_testkit_run of a task type that uses connection_package. */
int jobhost_testkit_package(jobhost_testkit *kit, const char *package);

/* Forget the parameters (settings, secrets, cookie and package stay). */
void jobhost_testkit_clear_params(jobhost_testkit *kit);

/* ---- running ---- */

/*
 * Run one task of type `task_type` (from a plugin added above), with the
 * parameters set. Its parameter `connection`, when the type declares one
 * and the test did not set it, is the kit's connection. Returns what the
 * task's run returned (0: Succeeded; JOBHOST_EBLOCKED, JOBHOST_ECANCELLED
 * or another negative code), or, when the task could not be started (an
 * unknown type, a parameter its schema refuses), JOBHOST_ECONFIG with the
 * reason in jobhost_testkit_error(). Tables are kept only when it
 * returns 0, as the host publishes them.
 */
int jobhost_testkit_run(jobhost_testkit *kit, const char *task_type);

/* ABI 1.2: check the task of type `task_type` as `jobhost validate`
 * would, without running it: its parameters against the schema (range,
 * pattern, choices, entity types), then the validate entry points of the
 * task type and of the connection's package. 0, or JOBHOST_ECONFIG with
 * the reason in jobhost_testkit_error() (jobhost_testkit_run refuses the
 * same way). */
int jobhost_testkit_validate(jobhost_testkit *kit, const char *task_type);

/* Export the connection with package `package`: the built-in ExportTask
 * run with the parameters set (e.g. ignore_cookie_file). The tables it
 * published, its cookie and counters are then read below. */
int jobhost_testkit_export(jobhost_testkit *kit, const char *package);

/*
 * Fulfill orders with package `package`: the built-in FulfillTask run on
 * one order file. orders_json is a JSON array of orders in the order file
 * format (jobhost-sdk(7)): ChangeType, and Changes, Resource, Owner
 * as needed; AssignedResourceTypeId and ResourceType may be left out (the
 * kit numbers the orders "order-1", "order-2", … and gives them its
 * resource type). key names the target's primary key property (the
 * order's resource_id is read from it; NULL: "id"). Returns the task's
 * code; each order's result is read with jobhost_testkit_order_result.
 */
int jobhost_testkit_fulfill(jobhost_testkit *kit, const char *package,
                            const char *key, const char *orders_json);

/* ---- what the task did (the last run) ---- */

/* The result message (set_message, or the one the host gives). */
const char *jobhost_testkit_message(const jobhost_testkit *kit);

/* The produced-output flag: 1 or 0 as the task said, -1 when not said
 * (the host then takes 1 on success). */
int jobhost_testkit_produced_output(const jobhost_testkit *kit);

/* The named counter: 0 and *value, or -ENOENT when never set. */
int jobhost_testkit_counter(const jobhost_testkit *kit, const char *name,
                            int64_t *value);

/* Progress last reported. */
void jobhost_testkit_progress(const jobhost_testkit *kit, uint64_t *done,
                              uint64_t *total);

/* The task's log lines, as the host writes them without the time stamp:
 * "INFO    [Test] text". */
size_t jobhost_testkit_log_count(const jobhost_testkit *kit);
const char *jobhost_testkit_log_line(const jobhost_testkit *kit, size_t i);

/* The first log line containing `text`, or NULL. */
const char *jobhost_testkit_log_find(const jobhost_testkit *kit,
                                     const char *text);

/* The tables the run published, in name order: their count, and each
 * one's name. */
size_t jobhost_testkit_table_count(const jobhost_testkit *kit);
const char *jobhost_testkit_table_name(const jobhost_testkit *kit, size_t i);

/* Columns and rows of a published table (0 when there is no such table;
 * check jobhost_testkit_table_name first). */
size_t jobhost_testkit_columns(const jobhost_testkit *kit, const char *table,
                               const char *const **columns);
size_t jobhost_testkit_rows(const jobhost_testkit *kit, const char *table);

/* One value: row `row` (0: the first after the header), column named
 * `column`. NULL when there is no such table, row or column; "" for an
 * empty field. */
const char *jobhost_testkit_cell(const jobhost_testkit *kit, const char *table,
                                 size_t row, const char *column);

/* The connection's cookie after the last run, what the next run reads:
 * the one cookie_set gave when the run succeeded, else the one it started
 * with (a failed run saves none). Its bytes and size, or NULL when there
 * is none. */
const void *jobhost_testkit_cookie_saved(const jobhost_testkit *kit,
                                         size_t *size);

/* After jobhost_testkit_fulfill: the number of orders with a result, and
 * order i's: 0 Executed, -1 Errored (*message, when not NULL, receives
 * the reason, "" when none), -ENOENT when order i has no result. */
size_t jobhost_testkit_order_count(const jobhost_testkit *kit);
int jobhost_testkit_order_result(const jobhost_testkit *kit, size_t i,
                                 const char **message);

/* The kit's temporary folder (settings' relative paths start there; a
 * test may write its input files in it), and one of the task's folders
 * (jobhost/services.h). */
const char *jobhost_testkit_dir(const jobhost_testkit *kit);
const char *jobhost_testkit_folder(const jobhost_testkit *kit,
                                   jobhost_folder which);

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_TESTKIT_H */
