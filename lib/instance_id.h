/*
 * instance_id.h — job instance ids as text, and the names of the files
 * of a task instance, which start with its job instance's id: the one
 * place that writes and reads them.
 *
 * A job instance id is a positive decimal number ("7"): what `jobhost
 * show`, `resume` and `cancel` take. Each attempt of a task has a log
 * Temp/JobLogs/<instance>-<task>-<attempt>.log and a scratch folder
 * Work/Tasks/<instance>-<task>-<attempt>, where <task> is the task's id
 * made safe as a file name; a synchronization writes its change report
 * beside its log, <instance>-<task>-<attempt>.changes.csv. The leading
 * id tells the sweep whose leftovers a file is, and a synchronization
 * which job instance it runs in.
 */
#ifndef JH_INSTANCE_ID_H
#define JH_INSTANCE_ID_H

#include <stddef.h>
#include <stdint.h>

/* Suffix of a task log, and of the change report that replaces it. */
#define JH_TASK_LOG_SUFFIX ".log"
#define JH_CHANGE_REPORT_SUFFIX ".changes.csv"

/* Parse a job instance id: decimal digits only, above 0. Returns 0 and
 * *out, or -EINVAL. */
int jh_instance_parse(const char *text, int64_t *out);

/* The job instance id a file name starts with ("12-Sync-1.log": 12), or
 * 0 when the name does not start with an id and a '-'. name is a file
 * name or a path; only its last component is read. */
int64_t jh_instance_of_name(const char *name);

/* "<dir>/<instance>-<task>-<attempt><suffix>" (suffix may be ""), the
 * task id made safe (a '/', '\\' or control character, or a leading '.',
 * becomes '_'; at most 127 bytes of it). Returns a malloc'd string, or
 * NULL when out of memory. */
char *jh_task_file_path(const char *dir, int64_t instance, const char *task,
                        int attempt, const char *suffix);

/* The change report of the task whose log is log: log with its ".log"
 * replaced (or, without one, followed) by ".changes.csv". Returns 0, or
 * -ENAMETOOLONG when it does not fit in size. */
int jh_change_report_path(const char *log, char *buf, size_t size);

#endif /* JH_INSTANCE_ID_H */
