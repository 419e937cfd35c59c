/*
 * change_report.h — the change report of a synchronization: the one
 * place that knows its lines. SynchronizeTask writes it, beside its task
 * log (lib/instance_id.h names it); the host reads it back to count what
 * a synchronization did when its worker or host ended after its commit.
 *
 * A CSV file, header "change,table,key,detail", one line per change:
 *
 *   insert,HR_Person,E0000042,
 *   update,HR_Person,E0000100,title          (detail: properties changed)
 *   delete,HR_Person,E0000077,
 *   link_insert,AD_Entry_members,CN=Admins,CN=Jane   (detail: 2nd end)
 *   link_delete,...
 *   superseded,HR,2,12 held changes discarded   (connector, job instance)
 *
 * The first five kinds are also counted in the run report, under the
 * counter names jh_change_counter gives.
 */
#ifndef JH_CHANGE_REPORT_H
#define JH_CHANGE_REPORT_H

#include <stdint.h>

typedef enum jh_change_kind {
  JH_CHANGE_INSERT = 0,
  JH_CHANGE_UPDATE,
  JH_CHANGE_DELETE,
  JH_CHANGE_LINK_INSERT,
  JH_CHANGE_LINK_DELETE,
  JH_CHANGE_SUPERSEDED,
  JH_CHANGE_NKINDS
} jh_change_kind;

/* The kinds that are counters of the run report: the first five. */
#define JH_CHANGE_NCOUNTED JH_CHANGE_SUPERSEDED

/* The header's fields, JH_CHANGE_REPORT_NFIELDS of them. */
#define JH_CHANGE_REPORT_NFIELDS 4
extern const char *const jh_change_report_header[JH_CHANGE_REPORT_NFIELDS];

/* The word a line of kind starts with: "insert", "update", "delete",
 * "link_insert", "link_delete", "superseded" ("" for no kind). */
const char *jh_change_word(jh_change_kind kind);

/* The run report's counter of kind: "inserted", "updated", "deleted",
 * "link_inserted", "link_deleted"; NULL for a kind not counted. */
const char *jh_change_counter(jh_change_kind kind);

/* Count the lines of each kind of the report at path into
 * counts[JH_CHANGE_NKINDS]. Returns 0, or a negative errno when it cannot
 * be read. */
int jh_change_report_count(const char *path, int64_t counts[JH_CHANGE_NKINDS]);

#endif /* JH_CHANGE_REPORT_H */
