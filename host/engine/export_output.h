/*
 * export_output.h — which files of Temp/ExportOutput belong to which
 * connection (doc/synchronization.md, "ExportOutput").
 *
 * An export publishes its tables as ExportOutput/<table>.csv and lists
 * them in ExportOutput/<connection>.tables (one table name per line). The
 * list lets a failed export remove what its connection published before,
 * so that prepare never reads stale data, and lets a successful export
 * remove the tables it no longer produces.
 *
 * The host calls jh_export_output_publish when an export task succeeds
 * and jh_export_output_discard when it ends any other way (error, crash,
 * timeout, cancel). Both are for one process at a time per connection,
 * which the engine guarantees (a job never runs twice at once).
 */
#ifndef JH_EXPORT_OUTPUT_H
#define JH_EXPORT_OUTPUT_H

#include <stddef.h>

/* One complete table file to publish. Both strings are borrowed. */
typedef struct jh_export_file {
  const char *name;     /* table name: becomes out_dir/<name>.csv */
  const char *tmp_path; /* the complete file, on out_dir's file system */
} jh_export_file;

/*
 * jh_export_output_publish — move `n` complete table files into out_dir
 * and make them the published tables of `connection`.
 *
 * Steps: (1) the list is rewritten with the old names and the new ones,
 * so that every file that may be in place is listed even if the process
 * dies midway; (2) each file is renamed to out_dir/<name>.csv; (3) the
 * list is rewritten with the new names only, and the tables of the old
 * list that are not published again are removed.
 *
 * connection NULL: the files are only renamed (no list is kept). Names
 * must be valid file name stems (no '/', not starting with '.'); the
 * connection too. Returns 0 or a negative errno; after a failure the
 * caller should call jh_export_output_discard, since some tables may
 * already be in place.
 */
int jh_export_output_publish(const char *out_dir, const char *connection,
                             const jh_export_file *files, size_t n);

/*
 * jh_export_output_discard — remove the tables `connection` published
 * (those its list names) and the list itself. Files already gone are no
 * error. Returns 0, or the first error met (it goes on with the others).
 */
int jh_export_output_discard(const char *out_dir, const char *connection);

#endif /* JH_EXPORT_OUTPUT_H */
